// Names a running thread for the system, so that ps, gdb and /proc/<pid>/task/*/comm show
// what each thread is for, and tests can count a listener's threads exactly. Foundation's
// Thread.name does not always reach the kernel (seen here: about one thread in thirty keeps
// the process name), and pthread_setname_np is not imported into Swift on Linux, so the
// name is written where Linux keeps it: /proc/thread-self/comm (at most 15 bytes).
import Foundation

enum ThreadNaming {
    /// Starts a thread that carries `name`, for the system as well, and runs `body`.
    static func start(_ name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread {
            nameCurrentThread(name)
            body()
        }
        thread.name = name
        thread.start()
    }

    /// Names the calling thread; elsewhere than Linux, or without /proc, it only sets Thread.name.
    static func nameCurrentThread(_ name: String) {
        Thread.current.name = name
        guard let handle = FileHandle(forWritingAtPath: "/proc/thread-self/comm") else { return }
        defer { try? handle.close() }
        try? handle.write(contentsOf: Data(name.utf8.prefix(15)))
    }
}
