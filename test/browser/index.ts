import './telemetry.spec.js';
import './worker.spec.js';
import './abr.spec.js';
import './vr.spec.js';
import './profile.spec.js';
import './monitor.spec.js';
import './edge.spec.js';
import './qoe.spec.js';
