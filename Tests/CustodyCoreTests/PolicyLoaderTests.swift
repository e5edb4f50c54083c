import CustodyCore
import Foundation
import Testing

@Suite("PolicyLoader")
struct PolicyLoaderTests {
    @Test func loadsEveryKey() throws {
        let policy = try loadPolicy()
        #expect(policy.id == "test-policy")
        #expect(policy.title == "A test policy")
        #expect(policy.jurisdiction == "CN")
        #expect(policy.timeZoneIdentifier == "Asia/Shanghai")
        #expect(policy.timeZone.identifier == "Asia/Shanghai")
        #expect(policy.retention == Policy.Retention(minimumDays: 60, maximumDays: 180))
        #expect(policy.realName.registrationEvents == ["register", "signup"])
        #expect(policy.realName.verificationEvents == ["verify_phone": "phone", "verify_id": "id_document", "verify_email": "email"])
        #expect(policy.realName.acceptedMethods == ["phone", "id_document"])
        #expect(policy.realName.publishEvents == ["post", "comment"])
        #expect(policy.fields == Policy.FieldNames(timestamp: ["ts", "time"], user: ["user", "uid"], event: ["event"]))
        // Methods are upper-cased.
        #expect(
            policy.httpEvents == [
                HTTPEventRule(method: "POST", pathPrefix: "/api/posts", event: "post"),
                HTTPEventRule(method: "POST", pathPrefix: "/api/verify/phone", event: "verify_phone"),
            ])
    }

    @Test func optionalSectionsDefault() throws {
        let policy = try loadPolicy(
            """
            id: minimal
            jurisdiction: CN
            timezone: UTC
            retention:
              minimum_days: 30
            """)
        #expect(policy.title == "minimal")
        #expect(policy.retention.maximumDays == nil)
        #expect(policy.realName == Policy.RealName())
        #expect(policy.fields == .defaults)
        #expect(policy.httpEvents.isEmpty)
    }

    @Test func eventRoles() throws {
        let policy = try loadPolicy()
        #expect(policy.role(ofEvent: "post") == .publish)
        #expect(policy.role(ofEvent: "comment") == .publish)
        #expect(policy.role(ofEvent: "verify_phone") == .acceptedVerification)
        #expect(policy.role(ofEvent: "verify_id") == .acceptedVerification)
        // A verification by a method the policy does not accept verifies nothing.
        #expect(policy.role(ofEvent: "verify_email") == .otherVerification)
        #expect(policy.role(ofEvent: "signup") == .registration)
        #expect(policy.role(ofEvent: "view") == .other)
        #expect(policy.role(ofEvent: "Post") == .other)
    }

    @Test func shippedPolicyParses() throws {
        let path = repositoryRoot.appendingPathComponent("Policies/cn-cac-2016-apps.yaml").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let policy = try PolicyLoader.parse(text, file: path)
        #expect(policy.id == "cn-cac-2016-apps")
        #expect(policy.timeZoneIdentifier == "Asia/Shanghai")
        #expect(policy.retention.minimumDays == 60)
        #expect(policy.retention.maximumDays == 180)
        #expect(policy.realName.verificationEvents == ["verify_phone": "phone", "verify_id": "id_document"])
        #expect(Set(policy.realName.acceptedMethods) == ["phone", "id_document"])
        #expect(policy.realName.publishEvents == ["post", "comment", "message", "upload", "live_start"])
        #expect(policy.fields.timestamp == ["ts", "timestamp", "time", "@timestamp"])
        #expect(policy.httpEvents.count == 8)
        #expect(policy.httpEvents.contains(HTTPEventRule(method: "POST", pathPrefix: "/api/comments", event: "comment")))
        // load(path:) gives the same policy.
        #expect(try PolicyLoader.load(path: path) == policy)
    }

    @Test func loadNamesAnUnreadableFile() {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-\(UUID().uuidString).yaml").path
        #expect {
            _ = try PolicyLoader.load(path: path)
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.file == path && error.message.contains("cannot read")
        }
    }
}

@Suite("PolicyLoader errors")
struct PolicyLoaderErrorTests {
    @Test func unknownTopLevelKey() throws {
        let text = basePolicyYAML + "\ncolour: blue\n"
        let error = try #require(policyError(text))
        #expect(error.file == "bad.yaml")
        #expect(error.key == "colour")
        #expect(error.line == lineNumber(of: "colour:", in: text))
        #expect(error.message.contains("unknown key"))
        #expect(error.description.hasPrefix("bad.yaml:\(error.line!): colour: unknown key"))
    }

    @Test func unknownNestedKeyHasDottedPath() throws {
        let line = lineNumber(of: "maximum_days:")
        let text = replacingLine(line, with: ["  maximum_days: 180", "  minimum_dayz: 90"])
        let error = try #require(policyError(text))
        #expect(error.key == "retention.minimum_dayz")
        #expect(error.line == line + 1)
    }

    @Test func wrongTypeTwoLevelsDown() throws {
        let line = lineNumber(of: "verify_email:")
        // A verification entry whose value is a mapping is not a string.
        let text = replacingLine(line, with: ["    verify_email:", "      method: email"])
        let error = try #require(policyError(text))
        #expect(error.key == "real_name.verification_events.verify_email")
        #expect(error.line == line + 1)
    }

    @Test func unknownKeyInAnHTTPRule() throws {
        let line = lineNumber(of: "- { method: POST")
        let text = replacingLine(line, with: ["  - { method: POST, path_prefix: /api/verify/phone, event: verify_phone, verb: x }"])
        let error = try #require(policyError(text))
        #expect(error.key == "http_events[1].verb")
        #expect(error.line == line)
    }

    @Test func wrongType() throws {
        let line = lineNumber(of: "minimum_days:")
        let error = try #require(policyError(replacingLine(line, with: ["  minimum_days: sixty"])))
        #expect(error.key == "retention.minimum_days")
        #expect(error.line == line)
        #expect(error.message.contains("whole number"))
    }

    @Test func listWhereAStringIsExpected() throws {
        let line = lineNumber(of: "id:")
        let error = try #require(policyError(replacingLine(line, with: ["id: [a, b]"])))
        #expect(error.key == "id")
        #expect(error.line == line)
    }

    @Test func stringWhereAListIsExpected() throws {
        let line = lineNumber(of: "publish_events:")
        let error = try #require(policyError(replacingLine(line, with: ["  publish_events: post"])))
        #expect(error.key == "real_name.publish_events")
        #expect(error.line == line)
    }

    @Test func missingRequiredTopLevelKey() throws {
        let error = try #require(policyError(replacingLine(lineNumber(of: "jurisdiction:"), with: [])))
        #expect(error.key == "jurisdiction")
        #expect(error.message.contains("missing"))
    }

    @Test func missingRequiredNestedKey() throws {
        let text = replacingLine(lineNumber(of: "minimum_days:"), with: [])
        let error = try #require(policyError(text))
        #expect(error.key == "retention.minimum_days")
        // The line of the mapping the key is missing from.
        #expect(error.line == lineNumber(of: "maximum_days:", in: text))
    }

    @Test func missingRetention() throws {
        let text = """
            id: x
            jurisdiction: CN
            timezone: UTC
            """
        let error = try #require(policyError(text))
        #expect(error.key == "retention")
    }

    @Test func unknownTimeZone() throws {
        let line = lineNumber(of: "timezone:")
        let error = try #require(policyError(replacingLine(line, with: ["timezone: Mars/Olympus_Mons"])))
        #expect(error.key == "timezone")
        #expect(error.line == line)
        #expect(error.message.contains("Mars/Olympus_Mons"))
    }

    @Test func maximumBelowMinimum() throws {
        let line = lineNumber(of: "maximum_days:")
        let error = try #require(policyError(replacingLine(line, with: ["  maximum_days: 59"])))
        #expect(error.key == "retention.maximum_days")
        #expect(error.line == line)
    }

    @Test(arguments: ["-1", "36501"])  // 0 is allowed: no minimum (see PolicyProvenanceTests)
    func minimumOutOfRange(value: String) throws {
        let line = lineNumber(of: "minimum_days:")
        let error = try #require(policyError(replacingLine(line, with: ["  minimum_days: \(value)"])))
        #expect(error.key == "retention.minimum_days")
        #expect(error.line == line)
    }

    @Test func acceptedMethodNoVerificationEventProduces() throws {
        let line = lineNumber(of: "accepted_methods:")
        let error = try #require(policyError(replacingLine(line, with: ["  accepted_methods: [phone, passport]"])))
        #expect(error.key == "real_name.accepted_methods")
        #expect(error.line == line)
        #expect(error.message.contains("passport"))
    }

    @Test func publishEventThatIsAlsoAVerification() throws {
        let line = lineNumber(of: "publish_events:")
        let error = try #require(policyError(replacingLine(line, with: ["  publish_events: [post, verify_id]"])))
        #expect(error.key == "real_name.publish_events")
        #expect(error.line == line)
    }

    @Test func emptyFieldList() throws {
        let line = lineNumber(of: "user: [user")
        let error = try #require(policyError(replacingLine(line, with: ["  user: []"])))
        #expect(error.key == "fields.user")
        #expect(error.line == line)
    }

    @Test func pathPrefixMustStartWithSlash() throws {
        let line = lineNumber(of: "- { method: post")
        let error = try #require(policyError(replacingLine(line, with: ["  - { method: post, path_prefix: api/posts, event: post }"])))
        #expect(error.key == "http_events[0].path_prefix")
        #expect(error.line == line)
    }

    @Test func emptyRequiredString() throws {
        let line = lineNumber(of: "id:")
        let error = try #require(policyError(replacingLine(line, with: ["id: \"\""])))
        #expect(error.key == "id")
    }

    @Test func duplicateKey() throws {
        let text = basePolicyYAML + "\nid: again\n"
        let error = try #require(policyError(text))
        #expect(error.message.contains("duplicate"))
    }

    @Test func invalidYAML() throws {
        let text = replacingLine(lineNumber(of: "publish_events:"), with: ["  publish_events: [post, comment"])
        let error = try #require(policyError(text))
        #expect(error.key == nil)
        #expect(error.message.hasPrefix("not valid YAML"))
        let line = try #require(error.line)
        #expect(line >= lineNumber(of: "publish_events:"))
    }

    @Test func badIndentationIsInvalidYAML() throws {
        let error = try #require(policyError("id: x\n  jurisdiction: CN\n timezone: UTC\n"))
        #expect(error.message.hasPrefix("not valid YAML"))
        #expect(error.line == 2)
    }

    @Test func emptyDocument() throws {
        let error = try #require(policyError(""))
        #expect(error.line == 1)
        #expect(error.message.contains("empty"))
    }

    @Test func rootMustBeAMapping() throws {
        let error = try #require(policyError("- id\n- jurisdiction\n"))
        #expect(error.message.contains("mapping"))
        #expect(error.line == 1)
    }

    @Test func descriptionNamesFileLineAndKey() {
        let error = ConfigurationError(file: "p.yaml", line: 7, key: "retention.minimum_days", message: "expected a whole number")
        #expect(error.description == "p.yaml:7: retention.minimum_days: expected a whole number")
        #expect(ConfigurationError(file: "p.yaml", line: nil, key: nil, message: "m").description == "p.yaml: m")
        #expect(ConfigurationError(file: "p.yaml", line: 3, key: nil, message: "m").description == "p.yaml:3: m")
    }
}
