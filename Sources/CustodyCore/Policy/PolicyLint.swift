/// Warnings about a policy that loads but does not say where its rules come from.
public enum PolicyLint {
    public static func warnings(_ policy: Policy) -> [String] {
        let p = policy.provenance
        var warnings: [String] = []
        if p.sources.isEmpty { warnings.append("sources: none given; cite the texts the rules come from") }
        for (index, source) in p.sources.enumerated() {
            if source.article == nil { warnings.append("sources[\(index)].article: missing; name the article or section") }
            if source.url == nil && source.documentNumber == nil {
                warnings.append("sources[\(index)]: neither url nor document_number; say where the text can be found")
            }
            if source.language == nil { warnings.append("sources[\(index)].language: missing; give the language of the text read") }
        }
        if p.status == nil { warnings.append("status: not stated (in_force, repealed or proposed)") }
        if p.effectiveFrom == nil { warnings.append("effective_from: not stated") }
        if policy.retention.minimumDays > 0 && policy.retention.minimumBasis == nil {
            warnings.append("retention.minimum_days_basis: not stated (law, provider or custody_default)")
        }
        if policy.retention.maximumDays != nil && policy.retention.maximumBasis == nil {
            warnings.append("retention.maximum_days_basis: not stated (law, provider or custody_default)")
        }
        return warnings
    }
}
