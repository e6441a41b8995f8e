//! Typed limit and anomaly events: what a limit cut off, or what input forced a stage to drop,
//! counted, with the limit's value and where it happened when that is known.
//!
//! Every stage (capture reading, link/IP decoding, TCP, the application protocols, the file
//! budget, the record caps) reports one of these instead of a sentence, so no decision reads
//! English and the report has one renderer (`report::limits`). This module depends on nothing
//! else in the crate: every stage may use it and data flows one way.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// One limit that cut something off (or input a stage had to drop), from any stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitEvent {
    /// Reading the capture file.
    Capture(CaptureLimit),
    /// Link and IP decoding, fragments included; `tunnel_depth` is how many tunnels deep
    /// the decoder that hit it was (0 for the outermost one).
    Network {
        /// 0 for the outer decoder, 1 inside tunnels, 2 inside tunnels inside tunnels…
        tunnel_depth: u8,
        /// What happened.
        limit: NetworkLimit,
        /// The frame of the first fragment concerned (of the datagram, for a datagram
        /// dropped whole), when the decoder knew it.
        first_frame: Option<u64>,
    },
    /// TCP connections and streams.
    Transport(TransportLimit),
    /// TFTP, HTTP, TLS and SIP.
    Application(AppLimit),
    /// The per-file and all-files byte limits.
    Files(FileLimit),
    /// The caps on records kept and reported (`--max-records`).
    Records(RecordLimit),
}

/// The capture reader's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureLimit {
    /// A record larger than `--max-record-size`, skipped without being held.
    OversizedRecord {
        /// Byte offset of the record in the (decompressed) file.
        offset: u64,
        /// Frames read before it.
        after_frame: u64,
        /// Length the record claimed.
        claimed: u64,
        /// `--max-record-size`.
        limit: u64,
    },
}

/// Fragment reassembly's events (link/IP stage).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkLimit {
    /// Datagrams dropped at the reassembly memory limits.
    FragmentsOverBudget {
        /// Datagrams dropped.
        count: u64,
        /// Bytes held at most.
        max_bytes: u64,
        /// Datagrams in progress at most.
        max_datagrams: u64,
    },
    /// Datagrams dropped incomplete after the reassembly timeout.
    FragmentsExpired {
        /// Datagrams dropped.
        count: u64,
        /// The timeout.
        timeout: Duration,
    },
    /// Datagrams dropped for exceeding the per-datagram size limit.
    FragmentsOversize {
        /// Datagrams dropped.
        count: u64,
        /// The size limit in bytes.
        max_bytes: u64,
    },
    /// Datagrams dropped because overlapping fragments disagreed.
    FragmentsConflicting {
        /// Datagrams dropped.
        count: u64,
    },
    /// Fragments cut by the snaplen.
    FragmentsTruncated {
        /// Fragments.
        count: u64,
    },
    /// Malformed fragments ignored.
    FragmentsMalformed {
        /// Fragments.
        count: u64,
    },
    /// Datagrams still incomplete at the end of the capture.
    FragmentsPendingAtEnd {
        /// Datagrams.
        count: u64,
    },
    /// Fragmented datagrams given up because the capture's memory budget (`--max-memory`,
    /// [`crate::budget`]) had no room: held ones of other hosts evicted for room, and new
    /// ones refused when nothing expendable was left.
    FragmentsMemoryBudget {
        /// Datagrams evicted for room.
        evicted: u64,
        /// Datagrams refused.
        refused: u64,
        /// The capture's share of the memory budget, bytes.
        budget: u64,
    },
}

/// TCP's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportLimit {
    /// Segments of new connections not followed: too many connections open at once.
    FlowsNotFollowed {
        /// Segments.
        count: u64,
        /// Of them to phone ports or from phones.
        phones: u64,
        /// `--max-flows`.
        max_flows: u64,
        /// The first segment not followed.
        first_frame: Option<u64>,
    },
    /// Connections closed early to make room.
    FlowsEvicted {
        /// Connections.
        count: u64,
        /// Of them phones'.
        phones: u64,
        /// `--max-flows`.
        max_flows: u64,
        /// The first frame of the first connection closed.
        first_frame: Option<u64>,
    },
    /// Skips over holes forced by the out-of-order buffer limits.
    OutOfOrderSkips {
        /// Skips.
        count: u64,
        /// Bytes held per stream at most.
        per_stream: u64,
        /// Bytes held across streams at most.
        total: u64,
        /// The segment that forced the first skip.
        first_frame: Option<u64>,
        /// The connection it belonged to (client, server), when known.
        first_flow: Option<(SocketAddr, SocketAddr)>,
    },
    /// Connections of hosts that are not phones closed early to free parser memory
    /// (`--max-memory`, [`crate::budget`]).
    MemoryEvictions {
        /// Connections.
        count: u64,
        /// The capture's share of the memory budget, bytes.
        budget: u64,
        /// The first frame of the first connection closed.
        first_frame: Option<u64>,
    },
    /// Parser buffers that could not grow past the memory budget; what they waited for was
    /// skipped.
    MemoryRefusals {
        /// Refused attempts.
        count: u64,
        /// Of them on phones' flows.
        phones: u64,
        /// The capture's share of the memory budget, bytes.
        budget: u64,
        /// The packet the collector was taking when the first refusal happened (see
        /// [`crate::budget::MemoryBudget::date_refusals`]).
        first_frame: Option<u64>,
    },
}

/// The application protocols' events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppLimit {
    /// TFTP requests not followed: too many transfers open at once.
    TftpRequestsNotFollowed {
        /// Requests.
        count: u64,
        /// Transfers open at once at most.
        max: u64,
        /// The first request not followed.
        first_frame: Option<u64>,
    },
    /// TFTP packets cut by the snaplen, treated as lost.
    TftpSnaplenCut {
        /// Packets.
        count: u64,
        /// The first one.
        first_frame: Option<u64>,
    },
    /// SIP messages on TCP over the message size limit, skipped unread.
    SipTcpOversize {
        /// Messages.
        count: u64,
        /// The size limit in bytes.
        max_bytes: u64,
        /// The segment that carried the first oversized message's bytes past the limit.
        first_frame: Option<u64>,
    },
    /// TLS sessions of non-phone hosts not summed: too many distinct servers/certificates.
    TlsNotSummed {
        /// Sessions.
        count: u64,
        /// Aggregates at most.
        max: u64,
        /// The earliest first frame of the sessions not summed.
        first_frame: Option<u64>,
    },
    /// Hosts behaving like phones not remembered as phones: too many.
    PhoneHostsRefused {
        /// Hosts.
        count: u64,
        /// Phone hosts remembered at most.
        max: u64,
        /// The packet that showed the first host refused behaving like a phone.
        first_frame: Option<u64>,
        /// That host, when known.
        first_host: Option<IpAddr>,
    },
}

/// The file byte limits' events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileLimit {
    /// File data refused by the all-files budget.
    TotalRefusals {
        /// Refusals.
        count: u64,
        /// `--max-total-file-bytes`.
        total: u64,
        /// The packet whose file data was the first refused.
        first_frame: Option<u64>,
    },
    /// File transfers cut short by a file limit (their [`FileCut`]).
    TransfersCut {
        /// Transfers.
        count: u64,
        /// `--max-file-size`.
        per_file: u64,
        /// `--max-total-file-bytes`.
        total: u64,
        /// The request frame of the first transfer cut.
        first_frame: Option<u64>,
    },
}

/// Which records a [`RecordLimit`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    /// TFTP transfers.
    TftpTransfers,
    /// HTTP transfers.
    HttpTransfers,
    /// File transfers of both kinds.
    FileTransfers,
    /// TLS sessions of phones.
    PhoneTlsSessions,
    /// SIP alarms carried over UDP.
    SipAlarmsUdp,
    /// SIP alarms carried over TCP.
    SipAlarmsTcp,
    /// SIP alarms of both kinds.
    SipAlarms,
    /// SCCP registrations (TCP 2000).
    SccpRegistrations,
    /// SIP registrations (UDP and TCP 5060).
    SipRegistrations,
}

/// The record caps' events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordLimit {
    /// Records a stage did not keep.
    NotKept {
        /// Which records.
        what: RecordKind,
        /// Records.
        count: u64,
        /// `--max-records`.
        max: u64,
        /// The first frame of the first record not kept, when known.
        first_frame: Option<u64>,
    },
    /// Records kept by the stages but left out of the evidence.
    NotReported {
        /// Which records.
        what: RecordKind,
        /// Records.
        count: u64,
        /// `--max-records`.
        max: u64,
        /// The first frame of the first record left out, when known.
        first_frame: Option<u64>,
    },
}

/// Why a file transfer's bytes were not all kept although the capture may hold them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileCut {
    /// The file grew past `--max-file-size`.
    PerFileLimit {
        /// `--max-file-size`.
        limit: u64,
    },
    /// Blocks that arrived ahead of a gap and were held for reordering exceeded
    /// `--max-file-size`.
    HeldOverFileLimit {
        /// `--max-file-size`.
        limit: u64,
    },
    /// The budget for all files' bytes (`--max-total-file-bytes`) was spent.
    TotalLimit,
    /// Blocks that arrived ahead of a gap could not be held: the capture's memory budget
    /// (`--max-memory`) had no room for them.
    HeldOverMemoryBudget {
        /// The capture's share of the memory budget, bytes.
        budget: u64,
    },
}

/// The stage a [`LimitEvent`] comes from, for machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading the capture file.
    Capture,
    /// Link and IP decoding.
    Network,
    /// TCP.
    Transport,
    /// TFTP, HTTP, TLS, SIP.
    Application,
    /// File byte limits.
    Files,
    /// Record caps.
    Records,
}

impl Stage {
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Capture => "capture",
            Stage::Network => "network",
            Stage::Transport => "transport",
            Stage::Application => "application",
            Stage::Files => "files",
            Stage::Records => "records",
        }
    }
}

impl RecordKind {
    /// Stable name, used in the event's kind.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::TftpTransfers => "tftp-transfers",
            RecordKind::HttpTransfers => "http-transfers",
            RecordKind::FileTransfers => "file-transfers",
            RecordKind::PhoneTlsSessions => "phone-tls-sessions",
            RecordKind::SipAlarmsUdp => "sip-alarms-udp",
            RecordKind::SipAlarmsTcp => "sip-alarms-tcp",
            RecordKind::SipAlarms => "sip-alarms",
            RecordKind::SccpRegistrations => "sccp-registrations",
            RecordKind::SipRegistrations => "sip-registrations",
        }
    }
}

impl LimitEvent {
    /// The stage that reported it.
    pub fn stage(&self) -> Stage {
        match self {
            LimitEvent::Capture(_) => Stage::Capture,
            LimitEvent::Network { .. } => Stage::Network,
            LimitEvent::Transport(_) => Stage::Transport,
            LimitEvent::Application(_) => Stage::Application,
            LimitEvent::Files(_) => Stage::Files,
            LimitEvent::Records(_) => Stage::Records,
        }
    }

    /// Stable kebab-case name of the event (docs/report.md lists them).
    pub fn kind(&self) -> String {
        let s = match self {
            LimitEvent::Capture(CaptureLimit::OversizedRecord { .. }) => "oversized-record",
            LimitEvent::Network { limit, .. } => match limit {
                NetworkLimit::FragmentsOverBudget { .. } => "fragments-over-budget",
                NetworkLimit::FragmentsExpired { .. } => "fragments-expired",
                NetworkLimit::FragmentsOversize { .. } => "fragments-oversize",
                NetworkLimit::FragmentsConflicting { .. } => "fragments-conflicting",
                NetworkLimit::FragmentsTruncated { .. } => "fragments-truncated",
                NetworkLimit::FragmentsMalformed { .. } => "fragments-malformed",
                NetworkLimit::FragmentsPendingAtEnd { .. } => "fragments-pending-at-end",
                NetworkLimit::FragmentsMemoryBudget { .. } => "fragments-memory-budget",
            },
            LimitEvent::Transport(t) => match t {
                TransportLimit::FlowsNotFollowed { .. } => "tcp-flows-not-followed",
                TransportLimit::FlowsEvicted { .. } => "tcp-flows-evicted",
                TransportLimit::OutOfOrderSkips { .. } => "tcp-out-of-order-skips",
                TransportLimit::MemoryEvictions { .. } => "memory-budget-evictions",
                TransportLimit::MemoryRefusals { .. } => "memory-budget-refusals",
            },
            LimitEvent::Application(a) => match a {
                AppLimit::TftpRequestsNotFollowed { .. } => "tftp-requests-not-followed",
                AppLimit::TftpSnaplenCut { .. } => "tftp-snaplen-cut",
                AppLimit::SipTcpOversize { .. } => "sip-tcp-oversize",
                AppLimit::TlsNotSummed { .. } => "tls-not-summed",
                AppLimit::PhoneHostsRefused { .. } => "phone-hosts-refused",
            },
            LimitEvent::Files(f) => match f {
                FileLimit::TotalRefusals { .. } => "file-total-refusals",
                FileLimit::TransfersCut { .. } => "file-transfers-cut",
            },
            LimitEvent::Records(r) => {
                let (prefix, what) = match r {
                    RecordLimit::NotKept { what, .. } => ("not-kept", what),
                    RecordLimit::NotReported { what, .. } => ("not-reported", what),
                };
                return format!("{}-{prefix}", what.as_str());
            }
        };
        s.to_string()
    }

    /// How many things it concerns (records, frames, datagrams, segments…).
    pub fn count(&self) -> u64 {
        match self {
            LimitEvent::Capture(CaptureLimit::OversizedRecord { .. }) => 1,
            LimitEvent::Network { limit, .. } => match *limit {
                NetworkLimit::FragmentsOverBudget { count, .. }
                | NetworkLimit::FragmentsExpired { count, .. }
                | NetworkLimit::FragmentsOversize { count, .. }
                | NetworkLimit::FragmentsConflicting { count }
                | NetworkLimit::FragmentsTruncated { count }
                | NetworkLimit::FragmentsMalformed { count }
                | NetworkLimit::FragmentsPendingAtEnd { count } => count,
                NetworkLimit::FragmentsMemoryBudget {
                    evicted, refused, ..
                } => evicted.saturating_add(refused),
            },
            LimitEvent::Transport(t) => match *t {
                TransportLimit::FlowsNotFollowed { count, .. }
                | TransportLimit::FlowsEvicted { count, .. }
                | TransportLimit::OutOfOrderSkips { count, .. }
                | TransportLimit::MemoryEvictions { count, .. }
                | TransportLimit::MemoryRefusals { count, .. } => count,
            },
            LimitEvent::Application(a) => match *a {
                AppLimit::TftpRequestsNotFollowed { count, .. }
                | AppLimit::TftpSnaplenCut { count, .. }
                | AppLimit::SipTcpOversize { count, .. }
                | AppLimit::TlsNotSummed { count, .. }
                | AppLimit::PhoneHostsRefused { count, .. } => count,
            },
            LimitEvent::Files(f) => match *f {
                FileLimit::TotalRefusals { count, .. } | FileLimit::TransfersCut { count, .. } => {
                    count
                }
            },
            LimitEvent::Records(r) => match *r {
                RecordLimit::NotKept { count, .. } | RecordLimit::NotReported { count, .. } => {
                    count
                }
            },
        }
    }

    /// The value of the limit that was reached, when one limit is (the first-named one when
    /// two are: bytes before datagrams, per stream or per file before total; seconds for a
    /// timeout). None for anomalies no limit caused.
    pub fn limit(&self) -> Option<u64> {
        match self {
            LimitEvent::Capture(CaptureLimit::OversizedRecord { limit, .. }) => Some(*limit),
            LimitEvent::Network { limit, .. } => match *limit {
                NetworkLimit::FragmentsOverBudget { max_bytes, .. }
                | NetworkLimit::FragmentsOversize { max_bytes, .. } => Some(max_bytes),
                NetworkLimit::FragmentsExpired { timeout, .. } => Some(timeout.as_secs()),
                NetworkLimit::FragmentsMemoryBudget { budget, .. } => Some(budget),
                _ => None,
            },
            LimitEvent::Transport(t) => match *t {
                TransportLimit::FlowsNotFollowed { max_flows, .. }
                | TransportLimit::FlowsEvicted { max_flows, .. } => Some(max_flows),
                TransportLimit::OutOfOrderSkips { per_stream, .. } => Some(per_stream),
                TransportLimit::MemoryEvictions { budget, .. }
                | TransportLimit::MemoryRefusals { budget, .. } => Some(budget),
            },
            LimitEvent::Application(a) => match *a {
                AppLimit::TftpRequestsNotFollowed { max, .. }
                | AppLimit::TlsNotSummed { max, .. }
                | AppLimit::PhoneHostsRefused { max, .. } => Some(max),
                AppLimit::SipTcpOversize { max_bytes, .. } => Some(max_bytes),
                AppLimit::TftpSnaplenCut { .. } => None,
            },
            LimitEvent::Files(f) => match *f {
                FileLimit::TotalRefusals { total, .. } => Some(total),
                FileLimit::TransfersCut { per_file, .. } => Some(per_file),
            },
            LimitEvent::Records(r) => match *r {
                RecordLimit::NotKept { max, .. } | RecordLimit::NotReported { max, .. } => {
                    Some(max)
                }
            },
        }
    }

    /// The first frame concerned, when the stage tracked it (None: not known).
    ///
    /// Every stage dates its events (issue 19: "with where it happened") except the
    /// reader's `oversized-record`: the record skipped is not a frame, it has no number
    /// (the next frame read takes the number it would have had, and Wireshark refuses such
    /// a record outright), so its place is its [`LimitEvent::byte_offset`] and the frame
    /// read before it (`after_frame`), both in its words.
    pub fn first_frame(&self) -> Option<u64> {
        match self {
            LimitEvent::Capture(CaptureLimit::OversizedRecord { .. }) => None,
            LimitEvent::Network { first_frame, .. } => *first_frame,
            LimitEvent::Transport(
                TransportLimit::FlowsNotFollowed { first_frame, .. }
                | TransportLimit::FlowsEvicted { first_frame, .. }
                | TransportLimit::OutOfOrderSkips { first_frame, .. }
                | TransportLimit::MemoryEvictions { first_frame, .. }
                | TransportLimit::MemoryRefusals { first_frame, .. },
            ) => *first_frame,
            LimitEvent::Application(
                AppLimit::TftpRequestsNotFollowed { first_frame, .. }
                | AppLimit::TftpSnaplenCut { first_frame, .. }
                | AppLimit::SipTcpOversize { first_frame, .. }
                | AppLimit::TlsNotSummed { first_frame, .. }
                | AppLimit::PhoneHostsRefused { first_frame, .. },
            ) => *first_frame,
            LimitEvent::Files(
                FileLimit::TotalRefusals { first_frame, .. }
                | FileLimit::TransfersCut { first_frame, .. },
            ) => *first_frame,
            LimitEvent::Records(
                RecordLimit::NotKept { first_frame, .. }
                | RecordLimit::NotReported { first_frame, .. },
            ) => *first_frame,
        }
    }

    /// Byte offset in the capture file, for events of the reader.
    pub fn byte_offset(&self) -> Option<u64> {
        match self {
            LimitEvent::Capture(CaptureLimit::OversizedRecord { offset, .. }) => Some(*offset),
            _ => None,
        }
    }

    /// The same event seen by a decoder one tunnel deeper.
    pub fn inside_tunnel(self) -> LimitEvent {
        match self {
            LimitEvent::Network {
                tunnel_depth,
                limit,
                first_frame,
            } => LimitEvent::Network {
                tunnel_depth: tunnel_depth.saturating_add(1),
                limit,
                first_frame,
            },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_stable_and_counts_read_back() {
        let e = LimitEvent::Records(RecordLimit::NotKept {
            what: RecordKind::TftpTransfers,
            count: 3,
            max: 10,
            first_frame: Some(42),
        });
        assert_eq!(e.kind(), "tftp-transfers-not-kept");
        assert_eq!(
            (e.count(), e.limit(), e.first_frame()),
            (3, Some(10), Some(42))
        );
        assert_eq!(e.stage().as_str(), "records");
        let n = LimitEvent::Network {
            tunnel_depth: 0,
            limit: NetworkLimit::FragmentsConflicting { count: 2 },
            first_frame: Some(7),
        }
        .inside_tunnel();
        assert_eq!(n.first_frame(), Some(7));
        assert!(matches!(
            n,
            LimitEvent::Network {
                tunnel_depth: 1,
                ..
            }
        ));
        assert_eq!(n.limit(), None);
    }
}
