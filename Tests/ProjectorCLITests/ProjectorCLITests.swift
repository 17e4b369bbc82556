// Tests of the ProjectorCLI module.
