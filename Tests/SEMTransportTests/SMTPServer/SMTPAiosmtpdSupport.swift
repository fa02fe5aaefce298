// Python's aiosmtpd as an independent SMTP server for the client tests: STARTTLS
// required, a client certificate required and verified against the test root, one
// recipient optionally refused with 550 5.1.1, and the envelope and content of each
// message saved to files in the scratch directory.
import Foundation
import SEMTestSupport

/// A running aiosmtpd process; `stop()` ends it.
final class AiosmtpdServer {
    let port: UInt16
    let scratch: ScratchDirectory
    private let process: Process

    /// The handler script. It binds a free port itself (aiosmtpd's controller cannot
    /// report one chosen by the system), writes it to "port" once the server answers,
    /// and exits on its own after 30 seconds in case nobody stops it.
    static let script = #"""
        import json, os, signal, socket, ssl, sys, time
        from aiosmtpd.controller import Controller

        # The parent may start this process from a thread that blocks signals; the mask is
        # inherited, and SIGTERM must be able to end the server.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
        directory, refused = sys.argv[1], sys.argv[2]

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                if address == refused:
                    return "550 5.1.1 No such user here"
                envelope.rcpt_tos.append(address)
                return "250 2.1.5 Recipient OK"

            async def handle_DATA(self, server, session, envelope):
                certificate = server.transport.get_extra_info("peercert") or {}
                names = [value for kind, value in certificate.get("subjectAltName", ()) if kind == "DNS"]
                with open(os.path.join(directory, "message.eml"), "wb") as out:
                    out.write(envelope.original_content)
                with open(os.path.join(directory, "envelope.json"), "w") as out:
                    json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                               "tls": server.transport.get_extra_info("sslcontext") is not None,
                               "client_dns": names}, out)
                return "250 2.0.0 Saved"

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=os.path.join(directory, "ca.pem"))
        context.load_cert_chain(os.path.join(directory, "server.pem"), os.path.join(directory, "server.key"))
        context.verify_mode = ssl.CERT_REQUIRED

        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        controller = Controller(Handler(), hostname="127.0.0.1", port=port, tls_context=context,
                                require_starttls=True)
        controller.start()
        with open(os.path.join(directory, "port.tmp"), "w") as out:
            out.write(str(port))
        os.rename(os.path.join(directory, "port.tmp"), os.path.join(directory, "port"))
        try:
            for _ in range(60):
                time.sleep(0.5)
        finally:
            controller.stop()
        """#

    /// Starts the server with the test PKI's files; `refusing` names a recipient that is
    /// answered 550 5.1.1.
    init(pki: SMTPTestPKI, refusing: String = "") throws {
        scratch = try ScratchDirectory(prefix: "sem-aiosmtpd")
        try pki.writeFiles(to: scratch)
        try scratch.write("server.py", AiosmtpdServer.script)
        try scratch.write("stdout", Data())
        try scratch.write("stderr", Data())
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", scratch.path("server.py"), scratch.url.path, refusing]
        process.currentDirectoryURL = scratch.url
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: scratch.url.appendingPathComponent("stdout"))
        process.standardError = try FileHandle(forWritingTo: scratch.url.appendingPathComponent("stderr"))
        try process.run()

        let deadline = ContinuousClock.now + .seconds(15)
        var found: UInt16?
        while ContinuousClock.now < deadline && process.isRunning {
            if let text = try? String(contentsOfFile: scratch.path("port"), encoding: .utf8),
               let number = UInt16(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                found = number
                break
            }
            usleep(50_000)
        }
        guard let found else {
            let errors = (try? String(contentsOfFile: scratch.path("stderr"), encoding: .utf8)) ?? ""
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            throw ScratchError("aiosmtpd did not start: \(errors)")
        }
        port = found
    }

    /// The last message's envelope as the handler saved it.
    func envelope() throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: try scratch.read("envelope.json"))
        guard let dictionary = object as? [String: Any] else { throw ScratchError("envelope.json is not an object") }
        return dictionary
    }

    /// The last message's content, dot-unstuffed by aiosmtpd.
    func message() throws -> [UInt8] { Array(try scratch.read("message.eml")) }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    deinit { stop() }
}
