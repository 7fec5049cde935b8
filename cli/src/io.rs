//! Reading inputs and writing outputs: `-` for stdin/stdout, no overwrite without `--force`,
//! and files replaced atomically so an interrupted write never leaves half a file.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

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
    let mut out = StreamOutput::create(path, force)?;
    out.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    out.commit()
}

/// `path` (standard input for `-`) as a buffered stream, for inputs read as they arrive.
pub fn open_input(path: &Path) -> Result<Box<dyn BufRead>> {
    if path.as_os_str() == "-" {
        Ok(Box::new(BufReader::with_capacity(
            1 << 20,
            std::io::stdin(),
        )))
    } else {
        let f =
            std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        Ok(Box::new(BufReader::with_capacity(1 << 20, f)))
    }
}

/// An output written as it is produced: standard output for `-`, else a temporary file in
/// the target's folder that [`StreamOutput::commit`] renames into place (never clobbering
/// without `force`), so that an interrupted write never leaves half a file under the name.
pub enum StreamOutput {
    /// Standard output.
    Stdout(BufWriter<std::io::Stdout>),
    /// A temporary file and where it goes.
    File {
        /// The temporary file.
        tmp: BufWriter<tempfile::NamedTempFile>,
        /// The target.
        path: PathBuf,
        /// Whether it may replace an existing file.
        force: bool,
    },
}

impl StreamOutput {
    /// Opens the output (checking `--force` first).
    pub fn create(path: &Path, force: bool) -> Result<Self> {
        if path.as_os_str() == "-" {
            return Ok(Self::Stdout(BufWriter::with_capacity(
                1 << 20,
                std::io::stdout(),
            )));
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
        let tmp = builder
            .tempfile_in(dir)
            .with_context(|| format!("cannot create a file in {}", dir.display()))?;
        Ok(Self::File {
            tmp: BufWriter::with_capacity(1 << 20, tmp),
            path: path.to_path_buf(),
            force,
        })
    }

    /// The temporary file's path (`None` for standard output), for writers that open files
    /// by name.
    #[cfg_attr(not(feature = "ffmpeg"), allow(dead_code))]
    pub fn temp_path(&self) -> Option<&Path> {
        match self {
            Self::Stdout(_) => None,
            Self::File { tmp, .. } => Some(tmp.get_ref().path()),
        }
    }

    /// Flushes and puts the file in place.
    pub fn commit(self) -> Result<()> {
        match self {
            Self::Stdout(mut w) => w.flush().context("cannot write standard output"),
            Self::File { tmp, path, force } => {
                let tmp = tmp
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .with_context(|| format!("cannot write {}", path.display()))?;
                if force {
                    tmp.persist(&path)
                } else {
                    tmp.persist_noclobber(&path)
                }
                .with_context(|| format!("cannot write {}", path.display()))?;
                Ok(())
            }
        }
    }
}

impl Write for StreamOutput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Self::Stdout(w) => w.write(buf),
            Self::File { tmp, .. } => tmp.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Self::Stdout(w) => w.flush(),
            Self::File { tmp, .. } => tmp.flush(),
        }
    }
}
