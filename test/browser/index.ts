import './telemetry.spec.js';
import './worker.spec.js';
