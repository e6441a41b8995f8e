//! The timeline of trust-relevant events of one phone, in frame order.

use super::checks::{phone_rejected, transfer_outcome};
use super::context::{PhoneCtx, service_of};
use super::model::TimelineEvent;
use crate::evidence::{Endpoint, Seen, Side, TcpEnd};

/// An exchange with `peer` offering `service` (None: a server the evidence does not name),
/// sent by the phone when `from_phone`.
fn event(
    seen: Seen,
    what: String,
    peer: Option<(Endpoint, &str)>,
    from_phone: bool,
    failed: bool,
) -> TimelineEvent {
    TimelineEvent {
        frame: seen.frame,
        time: seen.ts,
        what,
        peer: peer.map(|(endpoint, _)| endpoint),
        service: peer.map(|(_, service)| service.to_string()),
        from_phone,
        failed,
    }
}

/// Requests and their outcome, TLS handshakes (certificate, alerts, end), and alarms.
pub fn timeline(ctx: &PhoneCtx<'_>) -> Vec<TimelineEvent> {
    let mut events = Vec::new();
    for (_, file, _) in &ctx.files {
        let verb = if file.upload { "uploads" } else { "requests" };
        events.push(event(
            file.first,
            format!(
                "{verb} {} via {} from {}",
                file.name,
                file.transport.as_str(),
                file.server
            ),
            Some((file.server, file.transport.as_str())),
            true,
            false,
        ));
        if file.last.frame != file.first.frame || !file.complete {
            events.push(event(
                file.last,
                format!("{}: {}", file.name, transfer_outcome(file)),
                Some((file.server, file.transport.as_str())),
                file.upload,
                !file.complete,
            ));
        }
    }
    for (_, s) in &ctx.tls {
        let service = service_of(s);
        events.push(event(
            s.first,
            format!("connects to {} ({service})", s.server),
            Some((s.server, service)),
            true,
            false,
        ));
        if let (Some(seen), Some(leaf)) = (s.certificate_seen, s.certificates.first()) {
            events.push(event(
                seen,
                format!(
                    "{} presents certificate {} (serial {}, sha1 {})",
                    s.server, leaf.subject, leaf.serial, leaf.sha1
                ),
                Some((s.server, service)),
                false,
                false,
            ));
        }
        for alert in &s.alerts {
            let rejected = phone_rejected(s).is_some_and(|a| std::ptr::eq(a, alert));
            events.push(event(
                alert.seen,
                format!(
                    "{} sends {} alert {}{}",
                    alert.from.as_str(),
                    if alert.level == 2 { "fatal" } else { "warning" },
                    alert.describe(),
                    if rejected {
                        " after the server's certificate: the phone rejected it"
                    } else {
                        ""
                    }
                ),
                Some((s.server, service)),
                alert.from == Side::Client,
                alert.level == 2,
            ));
        }
        let end = match s.end {
            TcpEnd::NeverAnswered => Some("SYN never answered".to_string()),
            TcpEnd::Refused => Some("connection refused (RST)".to_string()),
            TcpEnd::Fin(side) => Some(format!("closed by {}", side.as_str())),
            TcpEnd::Reset(side) => Some(format!("reset by {}", side.as_str())),
            TcpEnd::Open => None,
        };
        let handshake = if s.handshake_complete {
            format!(
                "handshake completed, {}/{} bytes of application data",
                s.app_data_bytes.0, s.app_data_bytes.1
            )
        } else {
            "handshake not completed".to_string()
        };
        let from_phone = !matches!(
            s.end,
            TcpEnd::Fin(Side::Server) | TcpEnd::Reset(Side::Server)
        );
        let failed =
            !s.handshake_complete || matches!(s.end, TcpEnd::NeverAnswered | TcpEnd::Refused);
        events.push(event(
            s.last,
            format!(
                "{} ({service}): {handshake}{}",
                s.server,
                end.map(|e| format!(", {e}")).unwrap_or_default()
            ),
            Some((s.server, service)),
            from_phone,
            failed,
        ));
    }
    for (_, alarm) in &ctx.alarms {
        let sig = alarm
            .itl_signature
            .clone()
            .or_else(|| alarm.itl_signature_raw.clone())
            .unwrap_or_else(|| "absent".into());
        events.push(event(
            alarm.seen,
            format!(
                "DeviceTLInfo alarm: ITL_Signature {sig}{}",
                alarm
                    .status_code
                    .map(|c| format!(", StatusCode {c}"))
                    .unwrap_or_default()
            ),
            // Sent to the phone's SIP server, which the alarm record does not name.
            None,
            true,
            false,
        ));
    }
    events.sort_by_key(|e| e.frame);
    events
}
