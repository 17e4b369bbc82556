// Tests of the Projector module.
