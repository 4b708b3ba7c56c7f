//! The judge: the rules of RULES.md, each a small unit, and the engine that
//! sums their hits into a verdict. Pure: data and a time in, a decision out.
