import ArgumentParser
import CustodyCore
import CustodyDisclosure
import CustodyReports
import CustodyStore
import Foundation

/// `custody request …`: the disclosure workflow.
struct RequestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "request",
        abstract: "Record government requests for user data, decide them, produce evidence packages.",
        discussion: """
            A request moves received → under_review → decided → produced → closed (or withdrawn). \
            Intake places a legal hold on the vault objects its time range meets; closing releases \
            it. Every step is appended to the tamper-evident ledger (see custody verify).

            Example (request.json as in custody request add --help):
              custody request add --file request.json
              custody request decide REQ-1 --all --produce --reason "in scope"
              custody request produce REQ-1 --out /secure/REQ-1
              custody request close REQ-1
            """,
        subcommands: [Add.self, Import.self, List.self, Show.self, Acknowledge.self, Decide.self, Produce.self, Close.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Record a new request (from flags or --file JSON) and place its legal hold.",
            discussion: """
                A request file holds one JSON object:
                  {"id": "REQ-1", "received_at": "2026-11-20T09:00:00+08:00",
                   "authority": "Shanghai PSB", "jurisdiction": "CN",
                   "legal_basis": "CPL art. 54", "process_type": "criminal_evidence",
                   "scope": {"users": ["u00001"], "start": "2026-10-01",
                             "end": "2026-11-18", "data": ["content", "non_content"]},
                   "due": "2026-12-05"}

                Or give the request with the options below instead of --file: --id, \
                --received, --authority, --jurisdiction, --legal-basis, --process-type, \
                --user (repeated), --from and --to are then required.

                Example:
                  custody request add --file request.json
                """)

        @OptionGroup var options: StateOptions
        @Option(help: ArgumentHelp("The request as a JSON object (shown above); replaces the flags.", valueName: "file")) var file: String?
        @Option(help: "Request id (letters, digits, - _ . : /).") var id: String?
        @Option(help: ArgumentHelp("When it was received (RFC 3339).", valueName: "time")) var received: String?
        @Option(help: "The requesting authority.") var authority: String?
        @Option(help: ArgumentHelp("ISO 3166-1 alpha-2 code of the authority's jurisdiction.", valueName: "code")) var jurisdiction: String?
        @Option(name: .customLong("legal-basis"), help: "The legal basis cited, as free text.") var legalBasis: String?
        @Option(
            name: .customLong("process-type"),
            help: ArgumentHelp(
                "One of: \(ProcessType.allCases.map(\.rawValue).joined(separator: ", ")), or a type declared under reporting.process_types.",
                valueName: "type"))
        var processType: String?
        @Option(name: .customLong("user"), help: ArgumentHelp("A user id in scope (repeat for several).", valueName: "id")) var users:
            [String] = []
        @Option(
            help: ArgumentHelp("Start of the time range (YYYY-MM-DD, a day in the policy's time zone, or RFC 3339).", valueName: "time"))
        var from: String?
        @Option(help: ArgumentHelp("End of the time range (YYYY-MM-DD, inclusive, or RFC 3339).", valueName: "time")) var to: String?
        @Option(help: ArgumentHelp("Data categories: content, non_content (comma-separated).", valueName: "list")) var data: String =
            "content,non_content"
        @Option(help: ArgumentHelp("Due date (YYYY-MM-DD).", valueName: "day")) var due: String?
        @Option(
            name: .customLong("nondisclosure-until"),
            help: ArgumentHelp("A non-disclosure order ends on this day (YYYY-MM-DD).", valueName: "day")) var nondisclosureUntil: String?
        @Flag(help: "The requester is foreign: producing is a cross-border transfer.") var foreign = false
        @Option(help: ArgumentHelp("When the authority was informed of receipt (RFC 3339; not before --received).", valueName: "time"))
        var acknowledged: String?
        @Option(
            name: .customLong("member-state"),
            help: ArgumentHelp(
                "EU Member State of the issuing authority: the request is a DSA art. 10 order to provide information.", valueName: "code"))
        var memberState: String?
        @Option(
            name: .customLong("illegal-content-category"),
            help: ArgumentHelp(
                "DSA category of illegal content: \(IllegalContentCategory.allCases.map(\.rawValue).joined(separator: ", ")).",
                valueName: "category")) var illegalContentCategory: String?
        @Option(help: ArgumentHelp("Output: text or json.", valueName: "format")) var format: OutputFormat = .text

        func run() async throws {
            try await CLI.guarded {
                let (configuration, policy) = try options.load()
                let declared = try ReportConfiguration.load(configuration: configuration, about: nil).declaredProcessTypes
                let request: DisclosureRequest
                if let file {
                    guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                        throw DisclosureError("\(file): cannot read")
                    }
                    guard let json = JSONValue.parse(text) else { throw DisclosureError("\(file): not valid JSON") }
                    do { request = try DisclosureRequest(json: json, timeZone: policy.timeZone, declaredProcessTypes: declared) } catch let
                        e as DisclosureError
                    { throw DisclosureError("\(file): \(e.message)") }
                } else {
                    func need(_ value: String?, _ flag: String) throws -> String {
                        guard let value, !value.isEmpty else {
                            throw DisclosureError("missing --\(flag) (or give the request as --file JSON)")
                        }
                        return value
                    }
                    let type = try ProcessType.resolve(need(processType, "process-type"), declared: declared)
                    let categories = try data.split(separator: ",").map { part -> DataCategory in
                        guard let c = DataCategory(rawValue: part.trimmingCharacters(in: .whitespaces)) else {
                            throw DisclosureError("unknown data category '\(part)' (content, non_content)")
                        }
                        return c
                    }
                    request = try DisclosureRequest(
                        id: need(id, "id"), receivedAt: need(received, "received"), authority: need(authority, "authority"),
                        jurisdiction: need(jurisdiction, "jurisdiction"), legalBasis: need(legalBasis, "legal-basis"), processType: type,
                        users: users, scopeStart: need(from, "from"), scopeEnd: need(to, "to"), dataCategories: categories,
                        due: due, nondisclosureUntil: nondisclosureUntil, foreign: foreign, acknowledgedAt: acknowledged,
                        memberState: memberState, illegalContentCategory: illegalContentCategory, timeZone: policy.timeZone)
                }
                let record = try RequestBook(configuration: configuration).add(request)
                CLI.print(
                    record, format: format,
                    headline:
                        "recorded \(record.request.id): \(record.heldObjects) vault object\(record.heldObjects == 1 ? "" : "s") placed under legal hold"
                )
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import", abstract: "Record many requests from JSON lines, all or nothing.")

        @OptionGroup var options: StateOptions
        @Argument(help: ArgumentHelp("JSON-lines file, one request object a line ('-' for stdin).", valueName: "file")) var file: String

        func run() async throws {
            try await CLI.guarded {
                let text: String
                if file == "-" {
                    text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                } else {
                    guard let read = try? String(contentsOfFile: file, encoding: .utf8) else {
                        throw DisclosureError("\(file): cannot read")
                    }
                    text = read
                }
                let (configuration, policy) = try options.load()
                let declared = try ReportConfiguration.load(configuration: configuration, about: nil).declaredProcessTypes
                let imported = try RequestBook(configuration: configuration).importLines(
                    text, source: file == "-" ? "stdin" : file,
                    timeZone: policy.timeZone, declaredProcessTypes: declared)
                let ids = imported.prefix(10).joined(separator: ", ") + (imported.count > 10 ? ", …" : "")
                Swift.print("imported \(imported.count) request\(imported.count == 1 ? "" : "s"): \(ids)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List requests, optionally filtered.")

        @OptionGroup var options: ConfigOptions
        @Option(
            help: ArgumentHelp("Only this status: \(RequestStatus.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "status"))
        var status: String?
        @Option(help: ArgumentHelp("Only authorities whose name contains this text.", valueName: "text")) var authority: String?
        @Flag(help: "Only requests past their due date and not yet produced or closed.") var overdue = false
        @Option(help: ArgumentHelp("Output: text or json.", valueName: "format")) var format: OutputFormat = .text

        func run() async throws {
            try await CLI.guarded {
                var wanted: RequestStatus?
                if let status {
                    guard let s = RequestStatus(rawValue: status) else {
                        throw DisclosureError(
                            "unknown --status '\(status)' (one of \(RequestStatus.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    wanted = s
                }
                let (configuration, policy) = try options.load()
                let asOf = options.day(for: policy)
                let records = try RequestBook(configuration: configuration).list(
                    status: wanted, authority: authority, overdueAsOf: overdue ? asOf : nil)
                switch format {
                case .json:
                    Swift.print(
                        JSONValue.object([("schema", .string("custody.requests.v1")), ("requests", .array(records.map(\.json)))]).rendered()
                    )
                case .text:
                    if records.isEmpty {
                        Swift.print("no requests")
                        return
                    }
                    for r in records {
                        let due = r.request.dueDate.map { " due \($0)\(r.isOverdue(asOf: asOf) ? " OVERDUE" : "")" } ?? ""
                        Swift.print(
                            "\(r.request.id)  \(r.status.rawValue)\(r.outcome.map { "/\($0.rawValue)" } ?? "")  \(r.request.jurisdiction)  \(r.request.authority)  \(r.request.processType.rawValue)  \(r.request.users.count) user\(r.request.users.count == 1 ? "" : "s")\(due)"
                        )
                    }
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "Show one request: scope, decisions, holds, productions.")

        @OptionGroup var options: StateOptions
        @Argument(help: "Request id.") var id: String
        @Option(help: ArgumentHelp("Output: text or json.", valueName: "format")) var format: OutputFormat = .text

        func run() async throws {
            try await CLI.guarded {
                let (configuration, _) = try options.load()
                CLI.print(try RequestBook(configuration: configuration).record(id), format: format, headline: nil)
            }
        }
    }

    struct Acknowledge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "acknowledge",
            abstract: "Record when the authority was informed that its request was received.",
            discussion:
                "The DSA transparency template reports the median time to inform the authority of receipt. A time before the request was received is refused."
        )

        @OptionGroup var options: StateOptions
        @Argument(help: "Request id.") var id: String
        @Option(help: ArgumentHelp("When the authority was informed (RFC 3339); default now.", valueName: "time")) var at: String?

        func run() async throws {
            try await CLI.guarded {
                let (configuration, _) = try options.load()
                let record = try RequestBook(configuration: configuration).acknowledge(id, at: CLI.time(at))
                Swift.print("\(id): acknowledged at \(record.request.acknowledgedAt ?? "?")")
            }
        }
    }

    struct Decide: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "decide",
            abstract: "Decide, per user in scope, whether to produce their records (one request, or many with --file).",
            discussion: """
                Once every user in scope has a decision the request is decided; its outcome is fully complied, partially complied or rejected. \
                A decision dated (--at) before the request was received is refused.

                --file takes JSON lines, one decision a line, all or nothing (a bad line is named and nothing is recorded):
                  {"request": "R1", "users": ["u1"], "produce": true, "reason": "named in the order", "at": "2026-11-24T10:00:00+08:00"}
                Without "users" a line decides every user in scope.
                """)

        @OptionGroup var options: StateOptions
        @Argument(help: "Request id (not with --file).") var id: String?
        @Option(help: ArgumentHelp("JSON-lines file of decisions ('-' for stdin).", valueName: "file")) var file: String?
        @Option(name: .customLong("user"), help: ArgumentHelp("A user in scope (repeat for several).", valueName: "id")) var users:
            [String] = []
        @Flag(help: "Apply the decision to every user in scope.") var all = false
        @Flag(help: "Produce these users' records.") var produce = false
        @Flag(help: "Do not produce these users' records.") var withhold = false
        @Option(help: "Why (kept in the ledger).") var reason: String = ""
        @Option(help: ArgumentHelp("When the decision was made (RFC 3339); default now.", valueName: "time")) var at: String?
        @Option(help: ArgumentHelp("Output: text or json.", valueName: "format")) var format: OutputFormat = .text

        func validate() throws {
            if file != nil {
                if id != nil || !users.isEmpty || all || produce || withhold || at != nil {
                    throw ValidationError(
                        "--file takes every decision from the file: give no request id, --user, --all, --produce, --withhold or --at")
                }
                return
            }
            if id == nil { throw ValidationError("name the request, or give --file") }
            if produce == withhold { throw ValidationError("give exactly one of --produce or --withhold") }
            if all == !users.isEmpty { throw ValidationError("name users with --user, or pass --all") }
        }

        func run() async throws {
            try await CLI.guarded {
                let (configuration, _) = try options.load()
                let book = try RequestBook(configuration: configuration)
                if let file {
                    let (text, source) = try CLI.readInput(file)
                    let count = try book.decideLines(text, source: source)
                    Swift.print("decisions recorded for \(count) request\(count == 1 ? "" : "s")")
                    return
                }
                let id = id!
                let record = try book.decide(id, users: all ? nil : users, produce: produce, reason: reason, at: CLI.time(at))
                CLI.print(
                    record, format: format, headline: "\(id): \(record.status.rawValue)\(record.outcome.map { " (\($0.rawValue))" } ?? "")")
            }
        }
    }

    struct Produce: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "produce",
            abstract: "Write the evidence package of one or more decided requests.",
            discussion: """
                Writes records/<user>.log.gz (the original lines) and manifest.json with SHA-256 values into --out (created 0700; must not exist or be empty). \
                With several request ids, or --decided (every decided request with something to produce), each package goes to --out/<request id>. \
                A production dated (--at) before a request was received is refused.
                """)

        @OptionGroup var options: StateOptions
        @Argument(help: "Request ids.") var ids: [String] = []
        @Flag(help: "Produce every request that is decided and has users to produce.") var decided = false
        @Option(
            help: ArgumentHelp(
                "Directory for the package (for several requests: the parent of one directory per request).", valueName: "dir")) var out:
            String
        @Option(help: ArgumentHelp("When the package was handed over (RFC 3339); default now.", valueName: "time")) var at: String?

        func validate() throws {
            if decided == !ids.isEmpty { throw ValidationError("name the requests to produce, or pass --decided") }
        }

        func run() async throws {
            try await CLI.guarded {
                let (configuration, policy) = try options.load()
                let book = try RequestBook(configuration: configuration)
                let targets =
                    decided ? try book.list(status: .decided).filter { $0.decisions.contains(where: \.produce) }.map(\.request.id) : ids
                if targets.isEmpty {
                    Swift.print("no decided request to produce")
                    return
                }
                let time = try CLI.time(at)
                for id in targets {
                    let directory = targets.count == 1 && !decided ? out : out + "/" + id.replacingOccurrences(of: "/", with: "_")
                    let summary = try EvidencePackage.produce(book: book, policy: policy, id: id, out: directory, at: time)
                    Swift.print(
                        "produced \(id): \(summary.records) records of \(summary.usersAffected.count) user\(summary.usersAffected.count == 1 ? "" : "s") in \(summary.files) file\(summary.files == 1 ? "" : "s") → \(summary.directory)"
                    )
                    Swift.print("manifest.json SHA-256 \(summary.manifestSHA256)")
                }
            }
        }
    }

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "close",
            abstract: "Close (or withdraw) a request and release its legal hold (one request, or many with --file).",
            discussion: """
                A closing dated (--at) before the request was received is refused. --file takes JSON lines, all or nothing:
                  {"request": "R1", "withdrawn": false, "at": "2026-11-26T10:00:00+08:00"}
                """)

        @OptionGroup var options: StateOptions
        @Argument(help: "Request id (not with --file).") var id: String?
        @Option(help: ArgumentHelp("JSON-lines file of closings ('-' for stdin).", valueName: "file")) var file: String?
        @Flag(help: "The authority withdrew the request.") var withdrawn = false
        @Option(help: ArgumentHelp("When it was closed (RFC 3339); default now.", valueName: "time")) var at: String?

        func validate() throws {
            if file != nil && (id != nil || withdrawn || at != nil) {
                throw ValidationError("--file takes every closing from the file: give no request id, --withdrawn or --at")
            }
            if file == nil && id == nil { throw ValidationError("name the request, or give --file") }
        }

        func run() async throws {
            try await CLI.guarded {
                let (configuration, _) = try options.load()
                let book = try RequestBook(configuration: configuration)
                if let file {
                    let (text, source) = try CLI.readInput(file)
                    let count = try book.closeLines(text, source: source)
                    Swift.print("closed \(count) request\(count == 1 ? "" : "s"); legal holds released")
                    return
                }
                let id = id!
                let record = try book.close(id, withdrawn: withdrawn, at: CLI.time(at))
                Swift.print("\(id): \(record.status.rawValue)\(record.outcome.map { " (\($0.rawValue))" } ?? ""); legal hold released")
            }
        }
    }
}

extension CLI {
    static func print(_ record: RequestRecord, format: OutputFormat, headline: String?) {
        switch format {
        case .json:
            Swift.print(record.json.rendered())
        case .text:
            if let headline { Swift.print(headline) }
            let r = record.request
            Swift.print(
                """
                \(r.id)  \(record.status.rawValue)\(record.outcome.map { " (\($0.rawValue))" } ?? "")
                  received      \(r.receivedAt)
                  authority     \(r.authority) (\(r.jurisdiction))\(r.foreign ? ", foreign: cross-border transfer" : "")
                  legal basis   \(r.legalBasis) [\(r.processType.rawValue)]
                  scope         \(r.users.joined(separator: ", ")); \(TimestampParser.formatUTC(r.scopeStart)) … \(TimestampParser.formatUTC(r.scopeEnd)); \(r.dataCategories.map(\.rawValue).joined(separator: ", "))
                  acknowledged  \(r.acknowledgedAt ?? "-")
                  due           \(r.dueDate?.description ?? "-")
                  nondisclosure \(r.nondisclosureUntil.map { "until \($0)" } ?? "none")
                  DSA order     \(r.memberState.map { "\($0), \(r.illegalContentCategory?.rawValue ?? "category not given")" } ?? "-")
                  legal hold    \(record.heldObjects) vault object\(record.heldObjects == 1 ? "" : "s")
                """)
            for d in record.decisions { Swift.print("  decision      \(d.user): \(d.produce ? "produce" : "withhold") — \(d.reason)") }
            for p in record.productions {
                Swift.print(
                    "  produced      \(p.producedAt): \(p.records) records → \(p.directory) (manifest \(p.manifestSHA256.prefix(16))…)")
            }
        }
    }
}
