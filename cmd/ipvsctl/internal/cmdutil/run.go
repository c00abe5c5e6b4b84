package cmdutil

// Run does a command's work with opts, the options its flags and
// arguments filled in: with runF, the stand-in a test gave the command's
// constructor (NewCmdX(f, runF)), when there is one, else with run.
func Run[O any](opts O, runF, run func(O) error) error {
	if runF != nil {
		return runF(opts)
	}
	return run(opts)
}
