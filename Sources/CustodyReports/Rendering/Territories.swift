/// English short names for the territory codes reports are likely to meet; others print as
/// their code. (Google's user-data-requests CSV pairs a country name with its CLDR code.)
enum Territories {
    static let names: [String: String] = [
        "CN": "China", "HK": "Hong Kong", "MO": "Macao", "TW": "Taiwan", "US": "United States", "GB": "United Kingdom",
        "DE": "Germany", "FR": "France", "JP": "Japan", "KR": "South Korea", "SG": "Singapore", "IN": "India",
        "AU": "Australia", "CA": "Canada", "RU": "Russia", "BR": "Brazil", "NL": "Netherlands", "IE": "Ireland",
        "VN": "Vietnam", "TH": "Thailand", "MY": "Malaysia", "ID": "Indonesia", "PH": "Philippines",
    ]

    static func name(_ code: String) -> String { names[code] ?? code }
}
