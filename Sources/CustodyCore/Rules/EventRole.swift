/// What an event name means to the real-name rule, as the policy defines it.
public enum EventRole: UInt8, Sendable {
    case other
    case registration
    /// A verification whose method the policy accepts.
    case acceptedVerification
    /// A verification by a method the policy does not accept: it verifies nothing.
    case otherVerification
    case publish
}

extension Policy {
    /// The role of an event name under this policy.
    public func role(ofEvent name: String) -> EventRole {
        if realName.publishEvents.contains(name) { return .publish }
        if let method = realName.verificationEvents[name] {
            return realName.acceptedMethods.contains(method) ? .acceptedVerification : .otherVerification
        }
        if realName.registrationEvents.contains(name) { return .registration }
        return .other
    }
}
