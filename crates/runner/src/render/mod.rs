//! What people see: charts (PNG, SVG), the summary as Markdown and HTML from one row model, the
//! report page, and progress on stderr.

pub mod bench;
pub mod chart;
pub mod html;
pub mod live;
pub mod progress;
pub mod text;
