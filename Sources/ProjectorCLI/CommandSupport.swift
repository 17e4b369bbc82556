import ArgumentParser
import Foundation
import Pipelines
import Projector
import ProjectorTools
import Views

extension LibrdkafkaPropertyOptions {
    /// The `-X` properties, or exit 2 naming the malformed one.
    func properties(command: String) throws -> [String: String] {
        do {
            return try dictionary(command: command)
        } catch let failure as CommandFailure {
            throw failure.report()
        }
    }
}

/// Loads pipeline files; invalid ones print every problem as `file:line:column: message` and exit 2.
func loadPlans(_ paths: [String]) throws -> [Plan] {
    var plans: [Plan] = []
    var isValid = true
    for path in paths {
        do {
            plans.append(Plan(try Pipeline.load(path: path)))
        } catch let error as PipelineError {
            isValid = false
            let problems = error.problems.isEmpty ? [error] : error.problems
            for problem in problems { FileHandle.standardError.write(Data("\(problem.singleLine)\n".utf8)) }
        } catch {
            isValid = false
            FileHandle.standardError.write(Data("error: \(path): \(error)\n".utf8))
        }
    }
    guard isValid else { throw ExitCode(ExitStatus.usage) }
    return plans
}

/// Triggers `signal` on SIGINT and SIGTERM, so workers finish their batch and stop.
///
/// The two signals are blocked in the calling thread — and so in every thread it starts later
/// (workers, librdkafka's, SQLite's), which inherit the mask — and a dedicated thread takes them
/// with `sigwait`. A blocked signal stays pending until taken, so none is lost, however early it
/// comes (an ignore-then-install sequence loses a signal that lands in between). Call it first.
/// - Returns: the waiting thread; it runs until the process exits.
@discardableResult
func stopOnSignals(_ signal: ShutdownSignal) -> Thread {
    var stopSignals = sigset_t()
    sigemptyset(&stopSignals)
    sigaddset(&stopSignals, SIGINT)
    sigaddset(&stopSignals, SIGTERM)
    pthread_sigmask(SIG_BLOCK, &stopSignals, nil)
    let waiter = Thread { [stopSignals] in
        var waitedFor = stopSignals
        var received: Int32 = 0
        while sigwait(&waitedFor, &received) == 0 { signal.trigger() }
    }
    waiter.name = "projector.signals"
    waiter.start()
    return waiter
}

/// Runs a rebuild with a progress line and stop signals, or exits with the rebuild's error;
/// `metrics`, when given, follows its progress for `--http`; `progress` overrides the progress
/// line's mode (default: from the environment, see ``ProgressLine/environmentMode(withoutTerminal:)``).
func runRebuild(
    _ plan: Plan, store: any ViewStore, options: RebuildOptions, metrics: RuntimeMetrics? = nil, progress mode: ProgressLine.Mode? = nil
) throws -> Rebuild.Summary {
    let signal = ShutdownSignal()
    let sources = stopOnSignals(signal)
    defer { withExtendedLifetime(sources) {} }
    let progress = ProgressLine(mode: mode)
    let rebuild = Rebuild(projection: plan, store: store, options: options, onProgress: { update in
        progress.update(update.summary)
        metrics?.setRebuild(RebuildSnapshot(
            pipeline: update.pipeline, eventsDone: Int64(update.events), eventsTarget: Int64(update.events) + update.remaining,
            etaSeconds: update.eta.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 }))
    })
    defer { progress.finish() }
    do {
        return try rebuild.run(until: signal)
    } catch {
        throw failure(error)
    }
}
