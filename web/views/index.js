/**
 * Every view module of the page, imported for their registerView calls, and the view host.
 * A family's views are a module of their own: adding one is one line here.
 * May import: views/*.js.
 */
import './autoencoder.js';
import './image-classes.js';

export { createViewHost } from './host.js';
