//! File modes of the wheels wheelwright writes: an output keeps its input's permission bits, and
//! a wheel written from scratch gets the ordinary `rw-r--r--`. Temporary files (which outputs are
//! written through, then renamed) are created `rw-------`, so every writer sets the mode before the
//! rename.

use std::fs::File;
use std::io;
use std::path::Path;

/// The mode of a wheel written from scratch.
pub const FRESH_MODE: u32 = 0o644;

/// The permission bits (`0o777`) of `path`, or [`FRESH_MODE`] when it cannot be read.
#[must_use]
pub fn mode_of(path: &Path) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(path).map_or(FRESH_MODE, |m| m.permissions().mode() & 0o777)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        FRESH_MODE
    }
}

/// Gives the open (temporary) output `file` the permission bits `mode`.
pub fn set_mode(file: &File, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(mode & 0o777))
    }
    #[cfg(not(unix))]
    {
        let _ = (file, mode);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_read_and_set() {
        let dir = tempfile::tempdir().unwrap();
        let temp = tempfile::NamedTempFile::new_in(dir.path()).unwrap();
        assert_eq!(mode_of(temp.path()), 0o600, "temporary files start private");
        set_mode(temp.as_file(), 0o640).unwrap();
        assert_eq!(mode_of(temp.path()), 0o640);
        assert_eq!(mode_of(&dir.path().join("missing")), FRESH_MODE);
    }
}
