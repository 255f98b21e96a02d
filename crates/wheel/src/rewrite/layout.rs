//! The output's layout: which entries go where, in which order, with which mode and time
//! (replacements, additions and removals applied to the input's entries).

use super::*;

/// One output entry, in output order.
pub(super) enum Slot<'a> {
    /// An unchanged entry, copied raw.
    Copy(&'a EntryInfo),
    /// A replaced or added entry: the `job`-th producer.
    Job {
        job: usize,
        name: String,
        mode: u32,
        time: DateTime,
    },
    /// The new `WHEEL`.
    Wheel {
        name: String,
        mode: u32,
        time: DateTime,
    },
    /// The new `RECORD`.
    Record {
        name: String,
        mode: u32,
        time: DateTime,
    },
}

/// The output's entries in order, and the producers of the new ones (in output order).
pub(super) struct Layout<'a> {
    pub(super) slots: Vec<Slot<'a>>,
    pub(super) producers: Vec<Producer>,
    /// The input `RECORD` rows by path.
    pub(super) rows: HashMap<&'a str, &'a RecordEntry>,
}

impl<'a> Layout<'a> {
    /// Validates the plan against the input and orders the output: input order with the
    /// non-`.dist-info` entries first, then the added entries, then the `.dist-info` entries
    /// (with additions inside `.dist-info` after them), then `RECORD`.
    pub(super) fn new(
        archive: &'a WheelArchive,
        context: &Context,
        replace: Vec<NewEntry>,
        add: Vec<NewEntry>,
        remove: &[String],
        source_date: Option<DateTime>,
    ) -> Result<Self, RewriteError> {
        let output = || context.output.clone();
        let dist_info = archive.dist_info_dir();
        let prefix = format!("{dist_info}/");
        let wheel_name = format!("{prefix}WHEEL");
        let record_name = format!("{prefix}RECORD");
        let metadata_name = format!("{prefix}METADATA");
        let signatures = [format!("{prefix}RECORD.jws"), format!("{prefix}RECORD.p7s")];
        let generated = |name: &str| {
            name == wheel_name || name == record_name || signatures.iter().any(|s| s == name)
        };
        let zip = archive.zip_reader();
        let time_of = |entry: &EntryInfo| {
            zip.by_index_data(entry.index)
                .ok()
                .and_then(|data| data.last_modified())
                .filter(DateTime::is_valid)
                .unwrap_or(DateTime::DEFAULT)
        };

        let mut removed = HashSet::new();
        for name in remove {
            if name == &wheel_name || name == &record_name || name == &metadata_name {
                return Err(RewriteError::ProtectedEntry {
                    output: output(),
                    action: "remove",
                    entry: name.clone(),
                });
            }
            if archive.entry(name).is_none() {
                return Err(RewriteError::UnknownEntry {
                    output: output(),
                    action: "remove",
                    entry: name.clone(),
                });
            }
            removed.insert(name.as_str());
        }

        let mut replaced: HashMap<String, (u32, Producer)> = HashMap::new();
        for entry in replace {
            if generated(&entry.name) {
                return Err(RewriteError::ProtectedEntry {
                    output: output(),
                    action: "replace",
                    entry: entry.name,
                });
            }
            if archive.entry(&entry.name).is_none_or(|info| info.is_dir) {
                return Err(RewriteError::UnknownEntry {
                    output: output(),
                    action: "replace",
                    entry: entry.name,
                });
            }
            if removed.contains(entry.name.as_str()) || replaced.contains_key(&entry.name) {
                return Err(RewriteError::DuplicateEntry {
                    output: output(),
                    entry: entry.name,
                });
            }
            replaced.insert(entry.name, (entry.unix_mode, entry.producer));
        }

        let mut added_names = HashSet::new();
        for entry in &add {
            let name = entry.name.as_str();
            let invalid = |reason| RewriteError::InvalidEntryName {
                output: output(),
                entry: name.to_string(),
                reason,
            };
            check_entry_name(name).map_err(invalid)?;
            if name.ends_with('/') {
                return Err(invalid("is a directory name"));
            }
            if name.len() > usize::from(u16::MAX) {
                return Err(invalid("is longer than 65535 bytes"));
            }
            if generated(name) {
                return Err(RewriteError::ProtectedEntry {
                    output: output(),
                    action: "add",
                    entry: name.to_string(),
                });
            }
            let kept = |candidate: &str| {
                archive.entry(candidate).is_some() && !removed.contains(candidate)
            };
            if kept(name) || kept(&format!("{name}/")) || !added_names.insert(name) {
                return Err(RewriteError::DuplicateEntry {
                    output: output(),
                    entry: name.to_string(),
                });
            }
            let mut parents = name.match_indices('/').map(|(end, _)| &name[..end]);
            if parents.any(|parent| kept(parent) || added_names.contains(parent)) {
                return Err(invalid("a parent path is a file"));
            }
        }

        // Slots before job numbers: jobs are numbered in output order at the end.
        let mut outside = Vec::new();
        let mut inside = Vec::new();
        let mut pending_producers: Vec<Option<Producer>> = Vec::new();
        let mut new_job = |producer: Producer| {
            pending_producers.push(Some(producer));
            pending_producers.len() - 1
        };
        let mut record_slot = None;
        for entry in archive.entries() {
            let name = entry.name.as_str();
            if removed.contains(name) || signatures.iter().any(|s| s == name) {
                continue;
            }
            let slot = if name == record_name {
                record_slot = Some(Slot::Record {
                    name: record_name.clone(),
                    mode: entry.unix_mode.unwrap_or(DEFAULT_MODE),
                    time: source_date.unwrap_or_else(|| time_of(entry)),
                });
                continue;
            } else if name == wheel_name {
                Slot::Wheel {
                    name: wheel_name.clone(),
                    mode: entry.unix_mode.unwrap_or(DEFAULT_MODE),
                    time: source_date.unwrap_or_else(|| time_of(entry)),
                }
            } else if let Some((mode, producer)) = replaced.remove(name) {
                let mode = if mode == 0 {
                    entry.unix_mode.unwrap_or(DEFAULT_MODE)
                } else {
                    mode
                };
                Slot::Job {
                    job: new_job(producer),
                    name: name.to_string(),
                    mode: with_file_type(mode),
                    time: source_date.unwrap_or_else(|| time_of(entry)),
                }
            } else {
                Slot::Copy(entry)
            };
            if name.starts_with(&prefix) {
                inside.push(slot);
            } else {
                outside.push(slot);
            }
        }
        for entry in add {
            let mode = if entry.unix_mode == 0 {
                DEFAULT_MODE
            } else {
                entry.unix_mode
            };
            let inside_dist_info = entry.name.starts_with(&prefix);
            let slot = Slot::Job {
                job: new_job(entry.producer),
                name: entry.name,
                mode: with_file_type(mode),
                time: source_date.unwrap_or(DateTime::DEFAULT),
            };
            if inside_dist_info {
                inside.push(slot);
            } else {
                outside.push(slot);
            }
        }
        let record_slot = record_slot.unwrap_or_else(|| Slot::Record {
            name: record_name.clone(),
            mode: DEFAULT_MODE,
            time: source_date.unwrap_or(DateTime::DEFAULT),
        });
        let mut slots = outside;
        slots.append(&mut inside);
        slots.push(record_slot);

        // Renumber the jobs in output order, so that the workers produce them in that order.
        let mut producers = Vec::with_capacity(pending_producers.len());
        for slot in &mut slots {
            if let Slot::Job { job, .. } = slot
                && let Some(producer) = pending_producers.get_mut(*job).and_then(Option::take)
            {
                *job = producers.len();
                producers.push(producer);
            }
        }

        let rows = archive
            .record()
            .entries
            .iter()
            .map(|row| (row.path.as_str(), row))
            .collect();
        Ok(Self {
            slots,
            producers,
            rows,
        })
    }
}

/// A mode with the regular-file type added when it has no file type bits.
pub(super) fn with_file_type(mode: u32) -> u32 {
    if mode & S_IFMT == 0 {
        mode | S_IFREG
    } else {
        mode
    }
}

/// The zip timestamp for a `SOURCE_DATE_EPOCH` (UTC), clamped to what zip can represent
/// (1980-01-01 00:00:00 to 2107-12-31 23:59:58, even seconds).
pub(super) fn dos_time_from_epoch(seconds: u64) -> DateTime {
    if seconds < DOS_EPOCH {
        return DateTime::DEFAULT;
    }
    let (year, month, day) = civil_from_days(seconds / 86_400);
    let of_day = seconds % 86_400;
    let latest = || DateTime::from_date_and_time(2107, 12, 31, 23, 59, 58);
    let time = match u16::try_from(year) {
        Ok(year) if year <= 2107 => DateTime::from_date_and_time(
            year,
            month,
            day,
            // In range: below 24, 60 and 60.
            u8::try_from(of_day / 3600).unwrap_or(0),
            u8::try_from(of_day / 60 % 60).unwrap_or(0),
            u8::try_from(of_day % 60).unwrap_or(0),
        ),
        _ => latest(),
    };
    time.unwrap_or(DateTime::DEFAULT)
}

/// The proleptic Gregorian `(year, month, day)` of a day count since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`, for non-negative days).
pub(super) fn civil_from_days(days: u64) -> (u64, u8, u8) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    // In range: day is 1..=31 and month 1..=12.
    (
        year,
        u8::try_from(month).unwrap_or(1),
        u8::try_from(day).unwrap_or(1),
    )
}
