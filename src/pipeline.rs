//! The packet pipeline: capture files → frames → decoded packets → the protocol
//! [`Collector`]. One collector spans all captures, so a conversation split across
//! consecutive capture files (ring buffers) is still followed; frame numbers restart at 1
//! in each file.

use crate::capture::{CaptureError, CaptureReader};
use crate::evidence::{CaptureSummary, Evidence};
use crate::net::{Decoded, Decoder, DefragLimits, merge_decoder};
use crate::proto::{Collected, Collector, CollectorConfig};
use std::path::Path;

/// What reading a set of captures produced.
#[derive(Debug, Clone, Default)]
pub struct Collection {
    /// One summary per capture, in order.
    pub captures: Vec<CaptureSummary>,
    /// What the protocol stage found across them.
    pub collected: Collected,
}

impl Collection {
    /// The evidence handed to the diagnosis (limits hit by the protocol stage are added to
    /// the last capture's summary, so they are never silent).
    pub fn into_evidence(self) -> Evidence {
        let mut captures = self.captures;
        if let Some(last) = captures.last_mut() {
            last.limits_hit.extend(self.collected.limits_hit);
        }
        Evidence {
            captures,
            files: self.collected.files,
            tls: self.collected.tls,
            alarms: self.collected.alarms,
        }
    }
}

/// Reads every capture (`-` = standard input) through the decoder into one collector.
///
/// Fails only when a capture cannot be opened or is not a capture; a capture that stops
/// early still contributes what came before, with its summary saying where and why.
pub fn collect<P: AsRef<Path>>(
    paths: &[P],
    config: CollectorConfig,
) -> Result<Collection, CaptureError> {
    let mut collector = Collector::new(config);
    let mut captures = Vec::new();
    for path in paths {
        let mut reader = CaptureReader::open(path.as_ref())?;
        let mut decoder = Decoder::new(DefragLimits::default());
        let stopped = loop {
            match reader.next_frame() {
                Ok(Some(frame)) => {
                    if let Decoded::Packet(pkt) = decoder.decode(&frame) {
                        collector.packet(&pkt);
                    }
                }
                Ok(None) => break None,
                Err(e) => break Some(e),
            }
        };
        let mut summary = reader.summary().clone();
        if let Some(e) = stopped {
            summary.truncated = Some(e.to_string());
        }
        merge_decoder(&mut summary, &decoder);
        captures.push(summary);
    }
    Ok(Collection {
        captures,
        collected: collector.finish(),
    })
}
