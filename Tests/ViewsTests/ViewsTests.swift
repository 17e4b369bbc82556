// Tests of the Views module.
