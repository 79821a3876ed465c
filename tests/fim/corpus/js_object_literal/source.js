const config = {
  port: 8080,
  █
};

module.exports = config;
