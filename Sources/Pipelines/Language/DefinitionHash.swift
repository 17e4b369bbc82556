import Crypto

/// The identity of a projection definition: a view built by another definition is refused.
///
/// Pipelines digest their canonical text (`Pipeline.hash`), projections written in Swift their
/// name, version and views; both must stay byte-identical across releases, so the digest is
/// SHA-256 in lower-case hex and never changes.
package enum DefinitionHash {
    /// The lower-case hex SHA-256 of the UTF-8 bytes of `text`.
    package static func hex(of text: String) -> String {
        SHA256.hash(data: Array(text.utf8)).map { byte in
            let digits = String(byte, radix: 16)
            return byte < 16 ? "0" + digits : digits
        }.joined()
    }
}
