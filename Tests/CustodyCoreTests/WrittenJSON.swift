import CustodyCore

extension CheckReport {
    /// What `writeJSON` hands over, joined, and in how many pieces.
    func writtenJSON() -> (text: String, pieces: Int) {
        var text = ""
        var pieces = 0
        writeJSON {
            text += $0
            pieces += 1
        }
        return (text, pieces)
    }
}
