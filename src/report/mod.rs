//! Reports: the readable text report and the JSON object. Formatting only.
pub mod evidence;
