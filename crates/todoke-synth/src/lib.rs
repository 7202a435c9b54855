//! Deterministic, realistic synthetic cases for demos, tests and benchmarks.
//!
//! [`Generator`] streams cases (with their health observations) for a
//! [`GeneratorConfig`]: a seed, a size, a region of real municipalities
//! (from `todoke-refdata`), a period and the health centres. The same
//! configuration always yields byte-for-byte the same data, ids included
//! (UUIDv7 stamped with the day the record was entered, random bits from the
//! seeded ChaCha8 generator). Nothing is held per case, so a million cases
//! stream in flat memory.
//!
//! What makes the data look real: surnames drawn by their real frequency and
//! given names by sex and birth cohort, each with its katakana reading; an
//! epidemic curve of several growing waves with fewer diagnoses on Sundays;
//! an age mix like Japan's case mix, with admissions, severe courses and
//! deaths rising steeply with age; statuses that follow the dates (recovery
//! ended for older cases, still in hospital for recent ones); household
//! contacts who become cases of their own (linked both ways); named clusters.
//!
//! ```
//! use todoke_synth::{Generator, GeneratorConfig, Region};
//!
//! let config = GeneratorConfig { seed: 7, cases: 100, region: Region::Prefecture(13), ..GeneratorConfig::default() };
//! let generator = Generator::new(config);
//! let clusters = generator.clusters(); // known before the first case
//! for generated in generator {
//!     let case = generated.case; // a todoke_domain::Case
//!     assert!(case.basic.residence.text.starts_with("東京都"));
//!     assert!(generated.observations.len() <= 14);
//! }
//! # assert!(!clusters.is_empty());
//! ```
//!
//! [`sample_case`] is one complete, hand-checked case with every item of the
//! notification form filled in, for templates and documentation.

mod clinical;
mod clusters;
mod config;
mod curve;
mod generator;
mod ids;
mod names;
mod observations;
mod person;
mod places;
mod sample;

pub use config::{ConfigError, GeneratorConfig, HealthCentreDef, Region};
pub use generator::{Generated, Generator};
pub use names::{family_names, given_names};
pub use sample::sample_case;
