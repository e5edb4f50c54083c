import CustodyCore
import Foundation
import Testing

@Suite("JSONValue rendering")
struct JSONValueTests {
    @Test func compactKeepsKeyOrder() {
        let value = JSONValue.object([("z", .int(1)), ("a", .array([.bool(true), .null, .string("x")])), ("m", .object([]))])
        #expect(value.rendered(pretty: false) == #"{"z":1,"a":[true,null,"x"],"m":{}}"#)
    }

    @Test func prettyLayout() {
        let value = JSONValue.object([
            ("days", .array([.string("2026-10-03"), .string("2026-10-04")])),
            ("items", .array([.object([("a", .int(1))])])),
            ("empty", .array([])),
        ])
        #expect(
            value.rendered() == """
                {
                  "days": ["2026-10-03", "2026-10-04"],
                  "items": [
                    {
                      "a": 1
                    }
                  ],
                  "empty": []
                }
                """)
    }

    @Test func stringsAreEscaped() throws {
        let raw = "quote \" backslash \\ newline \n tab \t cr \r bell \u{07} nul \u{00} é 😀"
        let text = JSONValue.string(raw).rendered()
        #expect(text.contains(#"\u0007"#))
        #expect(text.contains(#"\u0000"#))
        #expect(!text.contains("\n"))
        // Any JSON reader gets the original string back.
        let decoded = try JSONSerialization.jsonObject(with: Data("[\(text)]".utf8)) as? [String]
        #expect(decoded == [raw])
    }

    /// Every ASCII character, and some that are not, alone inside a string: each comes back
    /// from a JSON reader unchanged, and no raw control character reaches the output.
    @Test func everyCharacterAloneRoundTrips() throws {
        let scalars = (0..<0x80).map { Unicode.Scalar(UInt8($0)) } + ["é", "用", "\u{7F}", "😀"].flatMap(\.unicodeScalars)
        for scalar in scalars {
            let raw = "a" + String(Character(scalar)) + "b"
            let text = JSONValue.string(raw).rendered()
            #expect(!text.utf8.contains { $0 < 0x20 }, "\(scalar.value)")
            let decoded = try JSONSerialization.jsonObject(with: Data("[\(text)]".utf8)) as? [String]
            #expect(decoded == [raw], "\(scalar.value)")
        }
    }

    /// The same in strings too long to be stored inline (their bytes are read in place), with the
    /// character last: a check that stopped early would let it through raw.
    @Test func everyCharacterLastInALongStringRoundTrips() throws {
        let scalars = (0..<0x80).map { Unicode.Scalar(UInt8($0)) } + ["é", "\u{7F}"].flatMap(\.unicodeScalars)
        for scalar in scalars {
            let raw = String(repeating: "user-name-", count: 4) + String(Character(scalar))
            let text = JSONValue.string(raw).rendered()
            #expect(!text.utf8.contains { $0 < 0x20 }, "\(scalar.value)")
            let decoded = try JSONSerialization.jsonObject(with: Data("[\(text)]".utf8)) as? [String]
            #expect(decoded == [raw], "\(scalar.value)")
        }
    }

    @Test func numbers() {
        #expect(JSONValue.int(-42).rendered() == "-42")
        #expect(JSONValue.double(2).rendered() == "2")
        #expect(JSONValue.double(0.5).rendered() == "0.5")
        #expect(JSONValue.double(.infinity).rendered() == "null")
        #expect(JSONValue.double(.nan).rendered() == "null")
    }

    @Test func equalityIsOrderSensitiveForObjects() {
        let a = JSONValue.object([("a", .int(1)), ("b", .int(2))])
        let b = JSONValue.object([("b", .int(2)), ("a", .int(1))])
        #expect(a != b)
        #expect(a == .object([("a", .int(1)), ("b", .int(2))]))
        #expect(JSONValue.int(1) != .double(1))
    }
}
