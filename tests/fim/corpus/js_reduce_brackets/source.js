const items = [{ price: 3 }, { price: 4 }];
const total = items.reduce((sum, item) => █, 0);
console.log(total);
