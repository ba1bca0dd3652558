//! The gzip reader against Go's: every body of `fixtures/go_gunzip/cases.tsv` (valid bodies,
//! the same bodies damaged, hand-built blocks at each of Go's checks) read by
//! `engine::gunzip`, compared with what go1.19's `gzip.NewReader` and `io.ReadAll` made of it
//! (`fixtures/go_gunzip/main.go`; its `compress/flate` and `compress/gzip` readers follow the
//! same rules as go1.23's, InfluxDB 2.7.12's toolchain). An error must be Go's message, byte
//! for byte (`flate: corrupt input before offset N` included); a success, the same length and
//! CRC-32 of the output.

mod go_fixture;

use go_fixture::{load, unhex};
use influx_reference::engine::gunzip::gunzip;

#[test]
fn every_body_reads_as_go_reads_it() {
    let cases = load("go_gunzip/cases.tsv", "GUNZIP_GO_CASES");
    let mut failures = Vec::new();
    let mut counted = (0, 0);
    for (line_no, line) in cases.lines().enumerate() {
        let mut cols = line.split('\t');
        let (Some(body), Some(kind), Some(want)) = (cols.next(), cols.next(), cols.next()) else {
            panic!("line {}: three tab-separated columns", line_no + 1);
        };
        let body = unhex(body);
        let got = match gunzip(&body, usize::MAX) {
            Ok(out) => {
                let mut crc = flate2::Crc::new();
                crc.update(&out);
                format!("ok\t{} {:08x}", out.len(), crc.sum())
            }
            Err(e) => format!("err\t{e}"),
        };
        let want = format!("{kind}\t{want}");
        if kind == "ok" {
            counted.0 += 1;
        } else {
            counted.1 += 1;
        }
        if got != want {
            failures.push(format!("line {}: got {got:?}, Go {want:?}", line_no + 1));
        }
    }
    assert!(counted.0 >= 40 && counted.1 >= 900, "{counted:?}");
    assert!(
        failures.is_empty(),
        "{} of {} bodies differ from Go:\n{}",
        failures.len(),
        counted.0 + counted.1,
        failures.join("\n")
    );
}
