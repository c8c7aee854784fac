//! Finds agent log files where the agents keep them: Claude Code under each config dir's
//! `projects/` (`CLAUDE_CONFIG_DIR`, else `~/.config/claude` and `~/.claude`), Codex CLI under
//! `$CODEX_HOME` (else `~/.codex`) in `sessions/` and `archived_sessions/`.

use freight_core::Tool;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use walkdir::WalkDir;

/// One log file to read, with the project and session its path names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SourceFile {
    pub tool: Tool,
    pub path: PathBuf,
    pub project: Option<String>,
    pub session: String,
    pub bytes: u64,
    /// Whose logs these are, when the caller knows (a folder per person, or the laptop's git
    /// identity); the `user` column.
    pub user: Option<String>,
}

/// Where to look; empty lists mean "the agents' defaults".
#[derive(Debug, Clone, Default)]
pub struct Locations {
    pub claude_dirs: Vec<PathBuf>,
    pub codex_dirs: Vec<PathBuf>,
}

impl Locations {
    /// The agents' own defaults, from the environment as the agents read it.
    pub fn from_environment() -> Locations {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let claude_dirs = match std::env::var("CLAUDE_CONFIG_DIR") {
            Ok(list) if !list.trim().is_empty() => {
                list.split(',').map(str::trim).filter(|dir| !dir.is_empty()).map(PathBuf::from).collect()
            }
            _ => home.iter().flat_map(|home| [home.join(".config/claude"), home.join(".claude")]).collect(),
        };
        let codex_dirs = match std::env::var_os("CODEX_HOME") {
            Some(dir) if !dir.is_empty() => vec![PathBuf::from(dir)],
            _ => home.iter().map(|home| home.join(".codex")).collect(),
        };
        Locations { claude_dirs, codex_dirs }
    }
}

fn jsonl_files(root: &Path) -> impl Iterator<Item = (PathBuf, u64)> {
    WalkDir::new(root)
        .follow_links(true)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file() && entry.path().extension().is_some_and(|ext| ext == "jsonl"))
        .map(|entry| {
            let bytes = entry.metadata().map(|meta| meta.len()).unwrap_or(0);
            (entry.into_path(), bytes)
        })
}

/// Claude Code files below one config dir (holding `projects/`) or a `projects/` dir itself.
pub fn claude_files(dir: &Path) -> Vec<SourceFile> {
    let projects = if dir.join("projects").is_dir() { dir.join("projects") } else { dir.to_path_buf() };
    if !projects.is_dir() {
        return Vec::new();
    }
    jsonl_files(&projects)
        .filter_map(|(path, bytes)| {
            let relative: Vec<String> = path
                .strip_prefix(&projects)
                .ok()?
                .components()
                .map(|part| part.as_os_str().to_string_lossy().into_owned())
                .collect();
            let stem = path.file_stem()?.to_string_lossy().into_owned();
            let (project, session) = match relative.as_slice() {
                [_file] => (None, stem),
                // projects/<project>/<session>/subagents/agent-*.jsonl belongs to <session>.
                [project, .., session, subagents, _file] if subagents == "subagents" => {
                    (Some(project.clone()), session.clone())
                }
                [project, ..] => (Some(project.clone()), stem),
                [] => return None,
            };
            Some(SourceFile { tool: Tool::ClaudeCode, path, project, session, bytes, user: None })
        })
        .collect()
}

/// Codex files below one `CODEX_HOME`; a file in `sessions/` hides its `archived_sessions/` copy.
pub fn codex_files(home: &Path) -> Vec<SourceFile> {
    let mut by_session: BTreeMap<String, SourceFile> = BTreeMap::new();
    for folder in ["archived_sessions", "sessions"] {
        let root = home.join(folder);
        for (path, bytes) in jsonl_files(&root) {
            let Ok(relative) = path.strip_prefix(&root) else {
                continue;
            };
            let session = relative.with_extension("").to_string_lossy().replace('\\', "/");
            let file = SourceFile {
                tool: Tool::Codex,
                path: path.clone(),
                project: None,
                session: session.clone(),
                bytes,
                user: None,
            };
            by_session.insert(session, file);
        }
    }
    by_session.into_values().collect()
}

/// Every log file at the given locations, each file once, sorted by its full path as a string
/// (the order decides which copy of a duplicated call is the first seen, as in ccusage).
pub fn discover(locations: &Locations) -> Vec<SourceFile> {
    let mut files: Vec<SourceFile> = locations
        .claude_dirs
        .iter()
        .flat_map(|dir| claude_files(dir))
        .chain(locations.codex_dirs.iter().flat_map(|dir| codex_files(dir)))
        .collect();
    files.sort_by(|a, b| a.path.as_os_str().cmp(b.path.as_os_str()));
    files.dedup_by(|a, b| a.path == b.path);
    files
}

/// Logs collected from several people, a folder each: `<root>/<person>/` holding that person's
/// Claude Code config dir (`claude/` or `.claude/`, with `projects/`) and Codex home (`codex/`
/// or `.codex/`). Every file is tagged with its folder's name as the user.
pub fn discover_people(root: &Path) -> std::io::Result<Vec<SourceFile>> {
    let mut people: Vec<(String, PathBuf)> = std::fs::read_dir(root)?
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
        .map(|entry| (entry.file_name().to_string_lossy().into_owned(), entry.path()))
        .collect();
    people.sort();
    let mut files = Vec::new();
    for (person, dir) in people {
        let locations = Locations {
            claude_dirs: ["claude", ".claude"].iter().map(|name| dir.join(name)).filter(|d| d.is_dir()).collect(),
            codex_dirs: ["codex", ".codex"].iter().map(|name| dir.join(name)).filter(|d| d.is_dir()).collect(),
        };
        files.extend(discover(&locations).into_iter().map(|file| SourceFile { user: Some(person.clone()), ..file }));
    }
    files.sort_by(|a, b| a.path.as_os_str().cmp(b.path.as_os_str()));
    Ok(files)
}
