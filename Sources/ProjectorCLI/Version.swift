/// The version `projector_build_info{version}` reports; bumped when a release is tagged.
let projectorVersion = "0.1.0-dev"
