import ArgumentParser
import CustodyCore
import CustodyStore
import Dispatch
import Foundation

struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Run ingestion in a loop, watching the configured sources.",
        discussion: """
            Does what `custody run` does every --interval. SIGTERM (or SIGINT) lets the file being \
            read finish, commits it, and exits 0; SIGHUP reloads the configuration and the policy \
            before the next run. Logs one line per event on stderr (journald keeps them).

            Example (systemd): see contrib/custody-daemon.service.
            """)

    @OptionGroup var options: ConfigOptions

    @Option(help: ArgumentHelp("Time between runs: 90s, 15m, 1h, 1d.", valueName: "duration"))
    var interval: Duration = Duration(seconds: 900)

    @Option(help: ArgumentHelp("Files read in parallel (default: number of cores).", valueName: "n"))
    var jobs: Int?

    func run() async throws {
        Logs.bootstrap()
        let signals = SignalFlags()
        signals.install()
        var loaded: (CustodyConfiguration, Policy)
        do { loaded = try options.load() } catch { throw CommandFailure.from(error) }
        Logs.logger.info("daemon started: every \(interval.seconds) s, config \(options.config)")
        while !signals.stopRequested {
            if signals.takeReload() {
                do {
                    loaded = try options.load()
                    Logs.logger.notice("configuration reloaded from \(options.config)")
                } catch {
                    Logs.logger.error("reload failed, keeping the previous configuration: \(CommandFailure.from(error).message)")
                }
            }
            do {
                _ = try await Operations.runOnce(
                    configuration: loaded.0, policy: loaded.1, asOf: options.day(for: loaded.1),
                    jobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount,
                    shouldStop: { signals.stopRequested })
            } catch {
                Logs.logger.error("run failed: \(CommandFailure.from(error).message)")
            }
            // Sleep in short steps so a signal is acted on promptly.
            let wake = Date().addingTimeInterval(TimeInterval(interval.seconds))
            while Date() < wake && !signals.stopRequested && !signals.reloadPending {
                try? await Task.sleep(nanoseconds: 200_000_000)
            }
        }
        Logs.logger.info("daemon stopping (signal received)")
    }
}

/// A human duration: `90s`, `15m`, `1h`, `1d`, or plain seconds.
struct Duration: ExpressibleByArgument, CustomStringConvertible, Sendable {
    var seconds: Int

    init(seconds: Int) { self.seconds = seconds }

    init?(argument: String) {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        var text = argument
        var unit = 1
        if let last = text.last, let factor = units[last] {
            unit = factor
            text.removeLast()
        }
        guard let value = Int(text), value > 0 else { return nil }
        seconds = value * unit
    }

    /// As a user writes it, in the largest unit that divides it: `15m`, not `900`.
    var description: String {
        for (unit, factor) in [("d", 86_400), ("h", 3600), ("m", 60)] where seconds % factor == 0 {
            return "\(seconds / factor)\(unit)"
        }
        return "\(seconds)s"
    }

    /// `--help` shows the default this way (`(default: 15m)`).
    var defaultValueDescription: String { description }
}

/// SIGTERM/SIGINT request a stop, SIGHUP a reload; read from the run loop.
final class SignalFlags: @unchecked Sendable {
    private let lock = NSLock()
    private var stop = false
    private var reload = false
    private var sources: [DispatchSourceSignal] = []

    func install() {
        for (signal, handler) in [
            (SIGTERM, { [self] in lock.withLock { stop = true } }),
            (SIGINT, { [self] in lock.withLock { stop = true } }),
            (SIGHUP, { [self] in lock.withLock { reload = true } }),
        ] as [(Int32, () -> Void)] {
            Foundation.signal(signal, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signal, queue: .global())
            source.setEventHandler(handler: handler)
            source.resume()
            sources.append(source)
        }
    }

    var stopRequested: Bool { lock.withLock { stop } }
    var reloadPending: Bool { lock.withLock { reload } }

    func takeReload() -> Bool {
        lock.withLock {
            defer { reload = false }
            return reload
        }
    }
}
