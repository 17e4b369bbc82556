import Foundation

/// `promtool check metrics` on `text`: its findings (empty when the page is clean) and exit status.
public func promtoolCheck(_ text: String) throws -> (status: Int32, output: String) {
    let promtool = Process()
    promtool.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    promtool.arguments = ["promtool", "check", "metrics"]
    let input = Pipe(), output = Pipe()
    promtool.standardInput = input
    promtool.standardOutput = output
    promtool.standardError = output
    try promtool.run()
    input.fileHandleForWriting.write(Data(text.utf8))
    try input.fileHandleForWriting.close()
    let findings = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    promtool.waitUntilExit()
    return (promtool.terminationStatus, findings)
}
