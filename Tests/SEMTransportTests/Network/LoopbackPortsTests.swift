import Foundation
@testable import SEMTransport
import Testing

extension NetworkTests {
    @Suite("Loopback ports for configuration")
    struct LoopbackPortsTests {
        @Test("reserved ports are distinct, free, and never from the range outgoing connections use")
        func outsideTheEphemeralRange() throws {
            let ephemeral = LoopbackPorts.ephemeralRange()
            let first = try LoopbackPorts.reserve(12)
            let second = try LoopbackPorts.reserve(12)
            let all = first + second
            #expect(Set(all).count == all.count, "a port was handed out twice: \(all)")
            for port in all {
                #expect(!ephemeral.contains(Int(port)), "\(port) lies in the ephemeral range \(ephemeral)")
                #expect(Int(port) >= LoopbackPorts.floor)
                #expect(LoopbackPorts.isFree(port))
            }
        }

        @Test("a port something listens on counts as taken")
        func listenedPortIsSkipped() throws {
            let (listener, _) = try startListener()
            defer { listener.shutdown(gracePeriod: .seconds(1)) }
            #expect(!LoopbackPorts.isFree(listener.port))
        }
    }
}
