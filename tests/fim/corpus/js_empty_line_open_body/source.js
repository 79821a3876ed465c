'use strict';

function mean(xs) {
  const total = xs.reduce((a, b) => a + b, 0);
█
