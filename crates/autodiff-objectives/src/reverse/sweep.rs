// The backward sweep over a recording's nodes.

impl<T: TapeValue> Recording<T> {
    /// The backward sweep from the output `y`: `out` of the adjoints ∂y/∂input, or the
    /// tape-limit error if the recording overflowed. `inputs` (the numbers from
    /// [`Recording::begin`]) goes back to the tape for the next recording.
    fn sweep<R>(
        self,
        y: Var<T>,
        inputs: Vec<Var<T>>,
        out: impl FnOnce(&[T]) -> R,
    ) -> Result<R, EvalError> {
        T::with_tape(|cell| {
            let mut tape = cell.borrow_mut();
            if inputs.capacity() > tape.input_buf.capacity() {
                tape.input_buf = inputs;
            }
            if tape.overflowed {
                return Err(EvalError::TapeLimitExceeded { limit: tape.limit });
            }
            let Tape {
                nodes,
                terms,
                blocks,
                layers,
                adjoints,
                ..
            } = &mut *tape;
            let start = self.mark.len;
            // This recording's nodes; the first has the index `first` (after the inputs).
            let nodes = &nodes[self.mark.nodes..];
            let first = start + self.inputs;
            let from = self.mark.terms.min(terms.len());
            let (mut term_parents, mut term_partials) =
                (&terms.parents[from..], &terms.partials[from..]);
            // Adjoints are indexed by node: slots below `start` (the sink, 0, and an enclosing
            // recording's nodes: what flows to constants) collect values that are never read,
            // and the last slot what flows to parents beyond the tape (only possible from a
            // `Var` smuggled out of another recording) or to a sum's marker. Only this
            // recording's slots are zeroed. Mapping parents with `min` keeps the loop free of
            // branches and of panics.
            let len = first + nodes.len();
            if adjoints.len() < start {
                adjoints.resize(start, T::zero());
            }
            adjoints.truncate(start);
            adjoints.resize(len + 1, T::zero());
            let adj = adjoints.as_mut_slice();
            let trash = len;
            // y = partial₀ · node₀ + partial₁ · node₁ + constant: the seeds. An unused slot
            // (node 0) and a node below `start` seed slots that are never read.
            for (&i, &p) in y.idx().iter().zip(&y.partial) {
                adj[(i as usize).min(trash)] += p;
            }
            let top = y.top();
            let output = (top as usize).wrapping_sub(first);
            if output < nodes.len() {
                // Terms of sum nodes recorded after y cannot reach it.
                let above: usize = nodes[output + 1..]
                    .iter()
                    .map(|node| match node.kind() {
                        NodeKind::Sum { terms } => terms,
                        NodeKind::Binary | NodeKind::BlockRow | NodeKind::Layer => 0,
                    })
                    .sum();
                let keep = term_parents.len().saturating_sub(above);
                (term_parents, term_partials) = (&term_parents[..keep], &term_partials[..keep]);
                // Likewise blocks (see `dense`).
                let mut blocks = blocks.sweep(self.mark.blocks, top);
                let mut layers = layers.sweep(self.mark.layers, top);
                for (k, node) in nodes[..=output].iter().enumerate().rev() {
                    let a = adj[first + k];
                    // A sum's marker maps to the trash slot (its partial is 0).
                    let q0 = (node.parents[0] as usize).min(trash);
                    let q1 = (node.parents[1] as usize).min(trash);
                    adj[q0] += a * node.partials[0];
                    adj[q1] += a * node.partials[1];
                    match node.kind() {
                        NodeKind::Binary => {}
                        NodeKind::Sum { terms } => {
                            // This node's terms: the last ones not yet taken, from the end.
                            let at = term_parents.len().saturating_sub(terms);
                            let (parents, partials) = (&term_parents[at..], &term_partials[at..]);
                            for (&q, &p) in parents.iter().zip(partials).rev() {
                                adj[(q as usize).min(trash)] += a * p;
                            }
                            (term_parents, term_partials) =
                                (&term_parents[..at], &term_partials[..at]);
                        }
                        NodeKind::BlockRow => {
                            // The first row of a dense block: every row's adjoint is final.
                            blocks.visit((first + k) as u32, adj);
                        }
                        NodeKind::Layer => {
                            // The first output of a layer block: every output's adjoint is final.
                            layers.visit((first + k) as u32, adj);
                        }
                    }
                }
                blocks.finish(adj);
            }
            Ok(out(&adj[start..start + self.inputs]))
        })
    }
}
