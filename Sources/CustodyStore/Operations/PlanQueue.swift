/// The plans of a run, in order, each let go once its read has started.
///
/// A plan holds its file's first decoded bytes (for the fingerprint) and, for a small file, its
/// whole content. Kept in an array for the whole run, 10,000 small files' plans were ~30 MB held
/// to the end, all of it fresh pages (a fifth of a fresh run's page faults); let go, the part
/// read from a plan keeps it only until its group is committed, and later plans reuse the memory.
struct PlanQueue {
    private var plans: [IngestionPlan?] = []
    /// Index of the next plan to start.
    private(set) var started = 0

    init(_ plans: [IngestionPlan]) { self.plans = plans }

    /// Plans made so far, started or not.
    var count: Int { plans.count }

    /// Plans made and not yet started.
    var waiting: Int { plans.count - started }

    /// The next plan to start, nil when all have started.
    var next: IngestionPlan? { started < plans.count ? plans[started] : nil }

    mutating func append(contentsOf more: [IngestionPlan]) { plans += more as [IngestionPlan?] }

    /// The next plan, let go here.
    mutating func take() -> IngestionPlan? {
        guard started < plans.count else { return nil }
        defer {
            plans[started] = nil
            started += 1
        }
        return plans[started]
    }
}
