import CustodyCore
import CustodyIngest
import Testing

@Suite("Registry file")
struct RegistryFileTests {
    /// A registry id is compared with log ids in their stored form (`EscapedText`): an id with a
    /// backslash or a tab must come out escaped exactly as the logs' interner escapes it.
    @Test func idsAreKeptInTheSameEscapedFormAsLogIds() throws {
        let text = "user,verified_at,method\n\"a\\b\",2026-10-01T00:00:00Z,phone\nplain,2026-10-01T00:00:00Z,phone\n"
        let rows = try RegistryFile.parse(text, file: "registry.csv")
        #expect(rows.map(\.user) == [EscapedText.escape("a\\b"), "plain"])
        #expect(rows[0].user == EscapedText.escape(bytes: Array("a\\b".utf8)))
    }
}
