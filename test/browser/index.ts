import './telemetry.spec.js';
