// ProjectorTesting: test support shipped as a library (mock cluster helpers, temp stores, event builders).
