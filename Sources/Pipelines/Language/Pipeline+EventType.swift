import Foundation

extension Pipeline {
    /// The event type of a JSON value as `source.type` reads it (nil when it is not a string), for
    /// tools that report per type, such as `projector validate --events`; not for the hot path.
    public func eventType(ofJSON text: String) -> String? {
        var current: Any? = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        for component in typePath.components {
            switch component {
            case .member(let name): current = (current as? [String: Any])?[name]
            case .index(let i): current = (current as? [Any]).flatMap { i < $0.count ? $0[i] : nil }
            case .wildcard: return nil
            }
        }
        return current as? String
    }
}
