import Testing

@testable import CustodyCore

/// Documents are composed with plain scalars left as text; every typed read converts the text
/// itself, as YAML 1.1 reads it.
@Suite("YAMLMapping typed reads")
struct YAMLMappingTests {
    func document(_ text: String) throws -> YAMLMapping { try YAMLMapping.parseDocument(text, file: "test.yaml") }

    @Test func booleansAsYamsReadsThem() throws {
        for (word, value) in [
            ("true", true), ("True", true), ("TRUE", true), ("TrUe", true), ("yes", true), ("On", true), ("false", false),
            ("False", false), ("NO", false), ("off", false), ("!!bool \"true\"", true),
        ] {
            #expect(try document("flag: \(word)\n").bool("flag") == value, "\(word)")
        }
        // Quoted or tagged as a string, it is text; other words are not booleans.
        for word in ["\"true\"", "'false'", "!!str true", "1", "y", "truth"] {
            #expect((try? document("flag: \(word)\n").bool("flag")) == nil, "\(word)")
        }
        #expect(try document("other: 1\n").bool("flag") == nil)
    }

    /// A key given twice, also when one is quoted and looks like a number: rejected, and the
    /// message names the line of its first use.
    @Test func duplicateKeysNameTheirLine() {
        for text in ["a: 1\nflag: x\nflag: y\n", "a: 1\n1: x\n\"1\": y\n"] {
            do {
                _ = try document(text)
                Issue.record("accepted: \(text)")
            } catch {
                #expect("\(error)".hasPrefix("test.yaml:2:"), "\(error)")
                #expect("\(error)".contains("duplicate key"), "\(error)")
            }
        }
    }

    @Test func textNumbersAndNulls() throws {
        let map = try document(
            """
            id: 007
            count: 12
            ratio: 1e-3
            quoted: "12"
            on: yes
            empty:
            tilde: ~
            list: [a, "b", 3]
            """)
        #expect(try map.string("id") == "007")
        #expect(try map.int("count") == 12)
        #expect(try map.int("quoted") == 12)
        #expect(try map.number("ratio") == 0.001)
        // Keys are text whatever they look like; YAML 1.1 would have made `on` a boolean key.
        #expect(try map.string("on") == "yes")
        #expect(throws: ConfigurationError.self) { try map.string("empty") }
        #expect(throws: ConfigurationError.self) { try map.string("tilde") }
        #expect(try map.stringList("list") == ["a", "b", "3"])
    }
}
