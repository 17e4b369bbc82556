import ArgumentParser

/// The `projector` executable: keeps read models current from Kafka event streams.
@main
struct ProjectorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "projector",
        abstract: "Turn Kafka event streams into queryable read models.",
        subcommands: [ValidateCommand.self]
    )
}
