//! Applying a [`RepairPlan`]: patch ELF files natively and stream the wheel into its new archive.
//!
//! Memory stays bounded whatever the size of the ELF files: every file to patch is inflated (and
//! verified against RECORD) into a temporary file, the patcher reads only the headers and tables it
//! needs from there and returns a small [`Patch`], and the new entry is produced by streaming the
//! temporary file through the patch into the compressor. Grafted libraries are streamed from the
//! filesystem root the same way. Unchanged entries are copied raw by the rewriter.

use std::io::{BufReader, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::elf::edit::{self, ElfEdits, Patch, RpathEdit};
use crate::repair::{RepairPlan, is_script};
use crate::wheel::WheelArchive;
use crate::wheel::archive::Verification;
use crate::wheel::rewrite::{NewEntry, RewriteOutcome, RewritePlan, rewrite};

/// How to write the output.
#[derive(Debug, Clone)]
pub(crate) struct ApplyOptions {
    /// Output directory.
    pub out_dir: PathBuf,
    /// The filesystem root grafted libraries are read from (`/` or a sysroot).
    pub root: PathBuf,
    /// Deflate level for written entries.
    pub compression_level: Option<i64>,
    /// Timestamp of written entries.
    pub source_date_epoch: Option<u64>,
    /// The SBOM to write as `<dist-info>/sboms/wheelwright.cdx.json` (replacing an earlier one
    /// of that name; other files of `sboms/` are kept).
    pub sbom: Option<Vec<u8>>,
}

/// The launcher that replaces an ELF executable moved out of `.data/scripts` (auditwheel #443).
///
/// auditwheel's launcher looks for the executable under `sysconfig.get_path("platlib")`, which
/// is wrong for `pip install --user` and `--prefix` installs; this one asks the installed
/// distribution where its files are and falls back to platlib. The `#!python` line makes
/// installers rewrite it to the environment's interpreter.
#[must_use]
pub(crate) fn script_shim(distribution: &str, new_path: &str) -> String {
    format!(
        r#"#!python
import os
import sys
import sysconfig


def _executable():
    try:
        from importlib.metadata import distribution

        path = str(distribution({distribution:?}).locate_file({new_path:?}))
        if os.path.exists(path):
            return path
    except Exception:
        pass
    return os.path.join(sysconfig.get_path("platlib"), {new_path:?})


if __name__ == "__main__":
    os.execv(_executable(), sys.argv)
"#
    )
}

fn host_file(root: &Path, inside: &Path) -> PathBuf {
    root.join(inside.strip_prefix("/").unwrap_or(inside))
}

/// Streams `source` through `patch` into `out`.
fn stream_patched(
    source: &Path,
    patch: &Patch,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let file = std::fs::File::open(source)?;
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    let mut writer = std::io::BufWriter::with_capacity(256 * 1024, out);
    patch.write_to(&mut reader, &mut writer)?;
    writer.flush()
}

/// Wheel files up to this size are patched in memory; larger ones through a temporary file.
const IN_MEMORY_LIMIT: u64 = 2 * 1024 * 1024;

/// Patching one ELF file of the wheel, run by a rewriter worker.
struct PatchJob {
    wheel: PathBuf,
    wheel_name: String,
    entry: String,
    size: u64,
    temp: PathBuf,
    edits: ElfEdits,
}

impl PatchJob {
    fn run(self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let fail = |what: String| std::io::Error::other(what);
        let archive = WheelArchive::open(&self.wheel).map_err(|e| fail(format!("{e}")))?;
        let cannot_patch = |e: edit::ElfEditError| {
            fail(format!(
                "`{}`: cannot patch `{}`: {e}",
                self.wheel_name, self.entry
            ))
        };
        if self.size <= IN_MEMORY_LIMIT {
            let mut data = Vec::with_capacity(usize::try_from(self.size).unwrap_or(0));
            archive
                .extract_entry_with(&self.entry, &mut data, Verification::SizesOnly)
                .map_err(|e| fail(format!("{e}")))?;
            let patch = edit::plan(data.as_slice(), &self.edits).map_err(cannot_patch)?;
            let mut writer = std::io::BufWriter::with_capacity(256 * 1024, out);
            patch.write_to(&mut data.as_slice(), &mut writer)?;
            return writer.flush();
        }
        {
            let mut file = std::fs::File::create(&self.temp)?;
            archive
                .extract_entry_with(&self.entry, &mut file, Verification::SizesOnly)
                .map_err(|e| fail(format!("{e}")))?;
        }
        let source = std::fs::File::open(&self.temp)?;
        let patch = edit::plan(&source, &self.edits).map_err(cannot_patch)?;
        drop(source);
        let result = stream_patched(&self.temp, &patch, out);
        let _ = std::fs::remove_file(&self.temp);
        result
    }
}

/// Applies `plan` to the wheel in `archive`, writing the repaired wheel into `options.out_dir`.
///
/// The caller has verified every entry's RECORD hash (the audit pass does): the ELF files are
/// read again here with only their CRC-32 and size checked, which catches a file that changed
/// between the two passes without hashing everything twice.
pub(crate) fn apply(
    archive: &WheelArchive,
    plan: &RepairPlan,
    options: &ApplyOptions,
) -> Result<RewriteOutcome> {
    let wheel_name = archive.path().file_name().map_or_else(
        || archive.path().display().to_string(),
        |f| f.to_string_lossy().into_owned(),
    );
    let scratch = crate::scratch::dir_in(&options.out_dir, ".repair").with_context(|| {
        format!(
            "cannot create a temporary directory in `{}`",
            options.out_dir.display()
        )
    })?;

    let mut replace: Vec<NewEntry> = Vec::new();
    let mut add: Vec<NewEntry> = Vec::new();
    let mut remove: Vec<String> = Vec::new();

    // Each patched wheel file is inflated, planned and streamed on a rewriter worker thread:
    // small files in memory, large ones through a temporary file in the scratch directory.
    for (index, file_edit) in plan.edits.iter().enumerate() {
        let edits = ElfEdits {
            soname: None,
            replace_needed: file_edit.replace_needed.clone(),
            remove_needed: file_edit.remove_needed.clone(),
            rpath: file_edit
                .rpath
                .clone()
                .map_or(RpathEdit::Keep, RpathEdit::Set),
            strip: plan.strip,
        };
        let entry = archive
            .entry(&file_edit.path)
            .with_context(|| format!("`{wheel_name}`: no entry `{}`", file_edit.path))?;
        let mode = entry.unix_mode.unwrap_or(0o100_755);
        let job = PatchJob {
            wheel: archive.path().to_path_buf(),
            wheel_name: wheel_name.clone(),
            entry: file_edit.path.clone(),
            size: entry.size,
            temp: scratch.path().join(format!("elf-{index}")),
            edits,
        };
        let producer: crate::wheel::rewrite::Producer =
            Box::new(move |out: &mut dyn std::io::Write| job.run(out));
        if file_edit.new_path == file_edit.path {
            replace.push(NewEntry {
                name: file_edit.path.clone(),
                unix_mode: mode,
                producer,
            });
        } else {
            debug_assert!(is_script(&file_edit.path));
            let shim = script_shim(&plan.filename.name, &file_edit.new_path).into_bytes();
            replace.push(NewEntry {
                name: file_edit.path.clone(),
                unix_mode: mode,
                producer: Box::new(move |out: &mut dyn std::io::Write| out.write_all(&shim)),
            });
            add.push(NewEntry {
                name: file_edit.new_path.clone(),
                unix_mode: mode,
                producer,
            });
        }
    }

    for graft in &plan.grafts {
        let crate::audit::resolve::Location::Host(inside) = &graft.source else {
            continue;
        };
        let on_disk = host_file(&options.root, inside);
        let edits = ElfEdits {
            soname: Some(graft.new_name.clone()),
            replace_needed: graft.replace_needed.clone(),
            remove_needed: Vec::new(),
            rpath: graft
                .rpath
                .clone()
                .map_or(RpathEdit::Remove, RpathEdit::Set),
            strip: plan.strip,
        };
        let source = std::fs::File::open(&on_disk)
            .with_context(|| format!("cannot read `{}`", on_disk.display()))?;
        let patch = edit::plan(&source, &edits).with_context(|| {
            format!("cannot patch the library to graft `{}`", on_disk.display())
        })?;
        let mode = {
            use std::os::unix::fs::PermissionsExt as _;
            let meta = std::fs::metadata(&on_disk)
                .with_context(|| format!("cannot read `{}`", on_disk.display()))?;
            0o100_000 | (meta.permissions().mode() & 0o7777) | 0o200
        };
        let path = on_disk.clone();
        add.push(NewEntry {
            name: graft.path.clone(),
            unix_mode: mode,
            producer: Box::new(move |out: &mut dyn std::io::Write| {
                stream_patched(&path, &patch, out)
            }),
        });
    }
    let _ = &mut remove;
    if let Some(sbom) = &options.sbom {
        let name = format!(
            "{}/sboms/{}",
            archive.dist_info_dir(),
            crate::repair::sbom::SBOM_FILE
        );
        let entry = NewEntry::from_bytes(name.clone(), 0o100_644, sbom.clone());
        if archive.entry(&name).is_some() {
            replace.push(entry);
        } else {
            add.push(entry);
        }
    }

    let outcome = rewrite(
        archive,
        RewritePlan {
            filename: plan.filename.clone(),
            wheel_info: plan.wheel_info.clone(),
            replace,
            add,
            remove,
            compression_level: options.compression_level,
            source_date_epoch: options.source_date_epoch,
        },
        &options.out_dir,
    )?;
    drop(scratch);
    Ok(outcome)
}
