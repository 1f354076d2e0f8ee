#pragma once
// Intentionally empty: see module.modulemap.
