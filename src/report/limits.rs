//! The one place limit and anomaly events ([`crate::events`]) become English: the text
//! report's `limit:` lines and the JSON `limits_hit` strings both come from [`limit_text`].

use crate::events::{
    AppLimit, CaptureLimit, FileCut, FileLimit, LimitEvent, NetworkLimit, RecordKind, RecordLimit,
    TransportLimit,
};

/// One event in words, as the reports print it, ending with "; first at frame N" when the
/// stage knew where it started (issue 19: every event says where it happened), then the
/// connection or host concerned when the event carries it.
pub fn limit_text(e: &LimitEvent) -> String {
    let mut s = event_text(e);
    if let Some(frame) = e.first_frame() {
        s.push_str(&format!("; first at frame {frame}"));
        // Where it helps to find it: the connection or the host.
        match e {
            LimitEvent::Transport(TransportLimit::OutOfOrderSkips {
                first_flow: Some((client, server)),
                ..
            }) => s.push_str(&format!(" ({client} → {server})")),
            LimitEvent::Application(AppLimit::PhoneHostsRefused {
                first_host: Some(host),
                ..
            }) => s.push_str(&format!(" ({host})")),
            _ => {}
        }
    }
    s
}

fn event_text(e: &LimitEvent) -> String {
    match e {
        LimitEvent::Capture(c) => capture_text(c),
        LimitEvent::Network {
            tunnel_depth,
            limit,
            ..
        } => {
            // Each level of tunnels the decoder was nested in is named once.
            let mut s = "inside tunnels: ".repeat(usize::from(*tunnel_depth));
            s.push_str(&network_text(limit));
            s
        }
        LimitEvent::Transport(t) => transport_text(t),
        LimitEvent::Application(a) => app_text(a),
        LimitEvent::Files(f) => files_text(f),
        LimitEvent::Records(r) => records_text(r),
    }
}

/// Every event in words, in order.
pub fn limit_texts(events: &[LimitEvent]) -> Vec<String> {
    events.iter().map(limit_text).collect()
}

/// Why a file was cut, in words (the same words the file's note carries).
pub fn file_cut_text(cut: FileCut) -> String {
    match cut {
        FileCut::PerFileLimit { limit } => format!("cut at the {limit}-byte file limit"),
        FileCut::HeldOverFileLimit { limit } => {
            format!("cut: out-of-order blocks exceeded the {limit}-byte file limit")
        }
        FileCut::TotalLimit => "cut: total file-data limit reached".to_string(),
        FileCut::HeldOverMemoryBudget { budget } => format!(
            "cut: out-of-order blocks could not be held within the {budget}-byte memory budget (--max-memory)"
        ),
    }
}

fn capture_text(c: &CaptureLimit) -> String {
    match c {
        CaptureLimit::OversizedRecord {
            offset,
            after_frame,
            claimed,
            limit,
        } => format!(
            "record at byte offset {offset} (after frame {after_frame}) claims {claimed} bytes, over the {limit}-byte --max-record-size: skipped"
        ),
    }
}

fn network_text(l: &NetworkLimit) -> String {
    match l {
        NetworkLimit::FragmentsOverBudget {
            count,
            max_bytes,
            max_datagrams,
        } => format!(
            "{count} fragmented datagrams dropped at the reassembly limits ({max_bytes} bytes, {max_datagrams} datagrams in progress)"
        ),
        NetworkLimit::FragmentsExpired { count, timeout } => format!(
            "{count} fragmented datagrams dropped incomplete after the {} s reassembly timeout",
            timeout.as_secs_f64()
        ),
        NetworkLimit::FragmentsOversize { count, max_bytes } => {
            format!("{count} fragmented datagrams dropped for exceeding {max_bytes} bytes")
        }
        NetworkLimit::FragmentsConflicting { count } => {
            format!("{count} fragmented datagrams dropped because overlapping fragments disagreed")
        }
        NetworkLimit::FragmentsTruncated { count } => {
            format!("{count} IP fragments cut by the snaplen could not be reassembled")
        }
        NetworkLimit::FragmentsMalformed { count } => {
            format!("{count} malformed IP fragments ignored")
        }
        NetworkLimit::FragmentsPendingAtEnd { count } => {
            format!("{count} fragmented datagrams still incomplete at the end of the capture")
        }
        NetworkLimit::FragmentsMemoryBudget {
            evicted,
            refused,
            budget,
            ..
        } => format!(
            "{} fragmented datagrams given up at the {budget}-byte memory budget (--max-memory): {evicted} of other hosts evicted for room, {refused} refused",
            evicted.saturating_add(*refused)
        ),
    }
}

fn transport_text(t: &TransportLimit) -> String {
    match t {
        TransportLimit::FlowsNotFollowed {
            count,
            phones,
            max_flows,
            ..
        } => format!(
            "{count} TCP segments of new connections not followed: more than {max_flows} connections open at once ({phones} of them to phone ports or from phones)"
        ),
        TransportLimit::FlowsEvicted {
            count,
            phones,
            max_flows,
            ..
        } => format!(
            "{count} TCP connections closed early to make room: more than {max_flows} open at once (the least valuable and oldest first; {phones} of them phones')"
        ),
        TransportLimit::OutOfOrderSkips {
            count,
            per_stream,
            total,
            ..
        } => format!(
            "TCP out-of-order buffer limits (per stream {per_stream} bytes, total {total} bytes) forced {count} skips over holes"
        ),
        TransportLimit::MemoryEvictions { count, budget, .. } => format!(
            "{count} TCP connections of hosts that are not phones closed early to free parser memory (memory budget {budget} bytes per capture)"
        ),
        TransportLimit::MemoryRefusals {
            count,
            phones,
            budget,
            ..
        } => format!(
            "{count} parser buffers could not grow past the memory budget of {budget} bytes per capture ({phones} of them phones' flows); what they waited for was skipped"
        ),
    }
}

fn app_text(a: &AppLimit) -> String {
    match a {
        AppLimit::TftpRequestsNotFollowed { count, max, .. } => {
            format!("{count} TFTP requests not followed: more than {max} transfers open at once")
        }
        AppLimit::TftpSnaplenCut { count, .. } => {
            format!("{count} TFTP packets cut by the capture's snaplen were treated as lost")
        }
        AppLimit::SipTcpOversize {
            count, max_bytes, ..
        } => {
            format!("{count} SIP messages on TCP over {max_bytes} bytes were skipped unread")
        }
        AppLimit::TlsNotSummed { count, max, .. } => format!(
            "{count} TLS sessions of hosts that are not phones were not summed: more than {max} distinct servers and certificates"
        ),
        AppLimit::PhoneHostsRefused { count, max, .. } => format!(
            "{count} hosts behaving like phones were not remembered as phones: more than {max}; their TLS sessions to ordinary ports were summed"
        ),
    }
}

fn files_text(f: &FileLimit) -> String {
    match f {
        FileLimit::TotalRefusals { count, total, .. } => {
            format!("file data over the {total}-byte total limit was not kept ({count} times)")
        }
        FileLimit::TransfersCut {
            count,
            per_file,
            total,
            ..
        } => format!(
            "{count} file transfers cut short by the file limits ({per_file} bytes per file, {total} bytes for all files)"
        ),
    }
}

fn record_name(what: RecordKind) -> &'static str {
    match what {
        RecordKind::TftpTransfers => "TFTP transfers",
        RecordKind::HttpTransfers => "HTTP transfers",
        RecordKind::FileTransfers => "file transfers",
        RecordKind::PhoneTlsSessions => "TLS sessions of phones",
        RecordKind::SipAlarmsUdp => "SIP alarms over UDP",
        RecordKind::SipAlarmsTcp => "SIP alarms over TCP",
        RecordKind::SipAlarms => "SIP alarms",
        RecordKind::SccpRegistrations => "SCCP registrations",
        RecordKind::SipRegistrations => "SIP registrations",
    }
}

fn records_text(r: &RecordLimit) -> String {
    match *r {
        RecordLimit::NotKept {
            what, count, max, ..
        } => format!(
            "{count} {} not kept: more than {max} in the capture",
            record_name(what)
        ),
        RecordLimit::NotReported {
            what, count, max, ..
        } => format!(
            "{count} {} not reported: more than {max}",
            record_name(what)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn nested_tunnels_are_named_per_level_and_timeouts_print_as_seconds() {
        let e = LimitEvent::Network {
            tunnel_depth: 2,
            limit: NetworkLimit::FragmentsExpired {
                count: 4,
                timeout: Duration::from_secs(30),
            },
            first_frame: None,
        };
        assert_eq!(
            limit_text(&e),
            "inside tunnels: inside tunnels: 4 fragmented datagrams dropped incomplete after the 30 s reassembly timeout"
        );
    }

    #[test]
    fn every_record_cap_reads_the_same_way() {
        // The UDP alarms' message used to lack "in the capture": one renderer, one wording.
        let e = LimitEvent::Records(RecordLimit::NotKept {
            what: RecordKind::SipAlarmsUdp,
            count: 2,
            max: 5,
            first_frame: None,
        });
        assert_eq!(
            limit_text(&e),
            "2 SIP alarms over UDP not kept: more than 5 in the capture"
        );
    }
}
