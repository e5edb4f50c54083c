/// Territory names for reports: CLDR English for every ISO 3166-1 code (the generated
/// `cldrEnglish` table), unless the report configuration names a territory its own way.
enum Territories {
    /// The name to print for `code`: the provider's override, else CLDR English, else the code
    /// itself (a code that is not ISO 3166-1, which intake does not refuse).
    static func name(_ code: String, overrides: [String: String] = [:]) -> String {
        overrides[code] ?? cldrEnglish[code] ?? code
    }

    static func isKnown(_ code: String) -> Bool { cldrEnglish[code] != nil }
}
