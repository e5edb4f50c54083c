import Foundation
import Testing

@testable import CustodyReports

@Suite struct TerritoryNameTests {
    @Test func everyISOTerritoryHasACLDRName() throws {
        let iso = "/usr/share/iso-codes/json/iso_3166-1.json"
        // The generated table covers the ISO list it was made from: 249 codes.
        #expect(Territories.cldrEnglish.count == 249)
        for code in ["AR", "BE", "CH", "CL", "CZ", "DK", "ES", "TW", "HK"] {
            #expect(Territories.name(code) != code, "\(code)")
        }
        #expect(Territories.name("HK") == "Hong Kong SAR China")
        #expect(Territories.name("TW", overrides: ["TW": "Taiwan, China"]) == "Taiwan, China")
        // Where the machine has iso-codes, every code in it is named.
        if let data = FileManager.default.contents(atPath: iso),
            let json = try JSONSerialization.jsonObject(with: data) as? [String: [[String: Any]]]
        {
            for entry in json["3166-1"] ?? [] {
                let code = entry["alpha_2"] as? String ?? ""
                #expect(Territories.cldrEnglish[code] != nil, "\(code)")
            }
        }
    }

    @Test func markdownEscapesWhatWouldBecomeMarkup() {
        #expect(Markdown.inline("# a|b <i>[x](y)</i> `z`\nnext") == "\\# a\\|b \\<i\\>\\[x\\](y)\\</i\\> \\`z\\` next")
        #expect(Markdown.inline("a * b _c_ \\") == "a \\* b \\_c\\_ \\\\")
    }
}
