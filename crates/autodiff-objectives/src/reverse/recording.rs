// A recording: where it starts on the tape, its inputs, and the guard that truncates the
// tape back when it ends.

/// A recording in progress on this thread's tape of `T`: where it started, how many inputs
/// it has, and the overflow state of the recording it is nested in. Dropping it (also during
/// a panic) truncates the tape back to where the recording started.
struct Recording<T: TapeValue> {
    /// Where the recording starts: `mark.len` is the index of its first input.
    mark: Mark,
    inputs: usize,
    outer_overflowed: bool,
    outer_inputs: Inputs,
    _marker: PhantomData<(T, *const ())>,
}

impl<T: TapeValue> Recording<T> {
    /// Starts a recording with one input node per value; the numbers come in the tape's kept
    /// buffer (give it back with [`Recording::sweep`]).
    fn begin(values: impl ExactSizeIterator<Item = T>) -> (Self, Vec<Var<T>>) {
        T::with_tape(|cell| {
            let mut tape = cell.borrow_mut();
            if tape.len == 0 {
                // The sink: index 0 stands for "a constant"; it is never swept.
                tape.nodes.push(Node {
                    parents: [0, 0],
                    partials: [T::zero(); 2],
                });
                tape.len = 1;
            }
            let mark = tape.mark();
            let start = mark.len;
            let outer_overflowed = std::mem::replace(&mut tape.overflowed, false);
            // All inputs at once when they fit (what `push_input` would do one by one);
            // otherwise one by one, so that the overflow is recorded exactly as it records it.
            let n = values.len();
            let fits = start + n <= tape.budget;
            let mut vars = std::mem::take(&mut tape.input_buf);
            vars.clear();
            vars.reserve(n);
            if fits {
                tape.len = start + n;
                // start + len ≤ budget ≤ MAX_TAPE_LIMIT < u32::MAX: the casts are lossless.
                vars.extend(
                    values
                        .zip(start as u32..)
                        .map(|(val, idx)| Var::new(val, idx)),
                );
            } else {
                vars.extend(values.map(|val| Var::new(val, tape.push_input())));
            }
            // The buffer the objective will receive (a Vec's buffer does not move with it).
            let inputs = Inputs {
                addr: if fits { vars.as_ptr() as usize } else { 0 },
                len: vars.len(),
                first: start as u32,
            };
            let outer_inputs = std::mem::replace(&mut tape.inputs, inputs);
            tape.blocks.begin_weights();
            let recording = Recording {
                mark,
                inputs: n,
                outer_overflowed,
                outer_inputs,
                _marker: PhantomData,
            };
            (recording, vars)
        })
    }
}

impl<T: TapeValue> Drop for Recording<T> {
    fn drop(&mut self) {
        // `try_with`: during thread teardown the tape may already be gone; nothing to restore.
        let _ = T::try_with_tape(|cell| {
            if let Ok(mut tape) = cell.try_borrow_mut() {
                tape.truncate(self.mark);
                tape.overflowed = self.outer_overflowed;
                tape.inputs = self.outer_inputs;
            }
        });
    }
}
