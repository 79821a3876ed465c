function double(a) {
  return a.map((x) => x * 2);
}

function triple(a) {
  █
}

module.exports = { double, triple };
