//! The memory limits of the packet path as command-line flags (binary-only module of
//! `main.rs`). Every limit that cuts something off is named in the report's `limits_hit`.

use clap::Args;
use itlscope::pipeline::PipelineOptions;

/// Limits that bound memory whatever a capture claims; raise them for unusual captures.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Memory limits (sizes take K, M, G suffixes)")]
pub struct LimitArgs {
    /// Largest file kept from a TFTP or HTTP transfer; longer ones are cut and reported
    /// incomplete.
    #[arg(long, value_name = "SIZE", default_value = "16M", value_parser = parse_size)]
    pub max_file_size: u64,
    /// File bytes kept across all transfers together.
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size)]
    pub max_total_file_bytes: u64,
    /// TCP connections followed at once (only TFTP/HTTP/TLS candidates become flows).
    #[arg(long, value_name = "N", default_value_t = 50_000)]
    pub max_flows: usize,
    /// Out-of-order bytes one TCP direction may hold while waiting for a hole.
    #[arg(long, value_name = "SIZE", default_value = "1M", value_parser = parse_size)]
    pub stream_buffer: u64,
    /// Out-of-order bytes all TCP directions may hold together.
    #[arg(long, value_name = "SIZE", default_value = "256M", value_parser = parse_size)]
    pub global_stream_buffer: u64,
    /// TFTP transfers open at once.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub max_tftp_transfers: usize,
    /// Largest TLS handshake message buffered (certificates are in one).
    #[arg(long, value_name = "SIZE", default_value = "1M", value_parser = parse_size)]
    pub max_handshake_message: u64,
    /// Largest capture record (pcap record or pcapng block) read.
    #[arg(long, value_name = "SIZE", default_value = "16M", value_parser = parse_size)]
    pub max_record_size: u64,
    /// Bytes all IP datagrams being defragmented may hold together.
    #[arg(long, value_name = "SIZE", default_value = "16M", value_parser = parse_size)]
    pub max_fragment_bytes: u64,
    /// IP datagrams being defragmented at once.
    #[arg(long, value_name = "N", default_value_t = 4096)]
    pub max_fragmented_datagrams: usize,
}

/// Bytes with an optional K/M/G suffix (binary units).
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits.parse().map_err(|_| format!("{s:?} is not a size"))?;
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => return Err(format!("{s:?}: unknown unit (use K, M or G)")),
    };
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("{s:?} is too large"))
}

fn to_usize(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

impl LimitArgs {
    /// The pipeline options these limits give (everything else default).
    pub fn options(&self) -> PipelineOptions {
        let mut o = PipelineOptions::default();
        o.collector.max_file_size = self.max_file_size;
        o.collector.max_total_file_bytes = self.max_total_file_bytes;
        o.collector.max_flows = self.max_flows;
        o.collector.stream_buffer_cap = to_usize(self.stream_buffer);
        o.collector.global_buffer_cap = to_usize(self.global_stream_buffer);
        o.collector.max_tftp_transfers = self.max_tftp_transfers;
        o.collector.max_handshake_message = to_usize(self.max_handshake_message);
        o.reader.max_record_size = to_usize(self.max_record_size);
        o.defrag.max_total_bytes = to_usize(self.max_fragment_bytes);
        o.defrag.max_datagrams = self.max_fragmented_datagrams;
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Probe {
        #[command(flatten)]
        limits: LimitArgs,
    }

    #[test]
    fn defaults_are_the_library_defaults() {
        let probe = Probe::try_parse_from(["x"]).expect("parses");
        let ours = probe.limits.options();
        let lib = PipelineOptions::default();
        assert_eq!(ours.collector.max_file_size, lib.collector.max_file_size);
        assert_eq!(
            ours.collector.max_total_file_bytes,
            lib.collector.max_total_file_bytes
        );
        assert_eq!(ours.collector.max_flows, lib.collector.max_flows);
        assert_eq!(
            ours.collector.stream_buffer_cap,
            lib.collector.stream_buffer_cap
        );
        assert_eq!(
            ours.collector.global_buffer_cap,
            lib.collector.global_buffer_cap
        );
        assert_eq!(
            ours.collector.max_tftp_transfers,
            lib.collector.max_tftp_transfers
        );
        assert_eq!(
            ours.collector.max_handshake_message,
            lib.collector.max_handshake_message
        );
        assert_eq!(ours.reader, lib.reader);
        assert_eq!(ours.defrag, lib.defrag);
    }

    #[test]
    fn flags_raise_the_limits() {
        let probe = Probe::try_parse_from(["x", "--max-file-size", "64M", "--max-flows", "7"])
            .expect("parses");
        let o = probe.limits.options();
        assert_eq!(o.collector.max_file_size, 64 << 20);
        assert_eq!(o.collector.max_flows, 7);
        assert!(Probe::try_parse_from(["x", "--max-file-size", "3X"]).is_err());
        assert!(Probe::try_parse_from(["x", "--max-file-size", "99999999999G"]).is_err());
    }
}
