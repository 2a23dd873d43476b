//! The social graph to load: an undirected edge list, `a b` per line with 0-based node ids
//! (the Network Repository format DeathStarBench ships).

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context as _, bail};

/// Nodes `0..nodes` and their undirected edges, each once with `a < b`.
#[derive(Debug)]
pub struct Graph {
    pub nodes: usize,
    pub edges: Vec<(usize, usize)>,
}

impl Graph {
    /// Reads an edge list file.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read edge list {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("invalid edge list {}", path.display()))
    }

    /// Parses `a b` lines; blank lines and `%`/`#` comments are skipped, self-loops and
    /// repeated edges (in either direction) are dropped.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let mut edges = BTreeSet::new();
        let mut nodes = 0;
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('%') || line.starts_with('#') {
                continue;
            }
            let mut fields = line.split_whitespace();
            let (Some(a), Some(b)) = (fields.next(), fields.next()) else { bail!("line {}: expected two node ids", number + 1) };
            let a: usize = a.parse().with_context(|| format!("line {}: bad node id {a:?}", number + 1))?;
            let b: usize = b.parse().with_context(|| format!("line {}: bad node id {b:?}", number + 1))?;
            nodes = nodes.max(a + 1).max(b + 1);
            if a != b {
                edges.insert((a.min(b), a.max(b)));
            }
        }
        if nodes == 0 {
            bail!("no edges");
        }
        Ok(Graph { nodes, edges: edges.into_iter().collect() })
    }

    /// Follows to make: both directions of every edge.
    pub fn follows(&self) -> Vec<(usize, usize)> {
        self.edges.iter().flat_map(|&(a, b)| [(a, b), (b, a)]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_are_deduplicated_and_followed_both_ways() {
        let g = Graph::parse("% comment\n1 0\n0 1\n2 0\n\n3 3\n").unwrap();
        assert_eq!(g.nodes, 4);
        assert_eq!(g.edges, vec![(0, 1), (0, 2)]);
        assert_eq!(g.follows(), vec![(0, 1), (1, 0), (0, 2), (2, 0)]);
    }

    #[test]
    fn a_malformed_line_names_its_number() {
        let err = Graph::parse("0 1\n2\n").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
