//! Reading inputs and writing outputs: `-` for stdin/stdout, no overwrite without `--force`,
//! and files replaced atomically so an interrupted write never leaves half a file.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};

/// The bytes of `path`, or of standard input for `-`.
pub fn read_input(path: &Path) -> Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("cannot read standard input")?;
        Ok(buf)
    } else {
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
    }
}

/// Fails early if `path` exists and `force` is off, before any expensive work.
pub fn check_output(path: &Path, force: bool) -> Result<()> {
    if path.as_os_str() != "-" && !force && path.exists() {
        bail!(
            "{} already exists (use --force to overwrite it)",
            path.display()
        );
    }
    Ok(())
}

/// Writes `bytes` to `path` (standard output for `-`) through a temporary file in the same
/// folder and a rename.
pub fn write_output(path: &Path, bytes: &[u8], force: bool) -> Result<()> {
    if path.as_os_str() == "-" {
        let mut out = std::io::stdout().lock();
        out.write_all(bytes)
            .context("cannot write standard output")?;
        return out.flush().context("cannot write standard output");
    }
    check_output(path, force)?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // Temporary files are private (0600); the output gets the usual 0666 minus the umask.
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    if force {
        tmp.persist(path)
    } else {
        tmp.persist_noclobber(path)
    }
    .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
