<?php
/**
 * Plugin Name:          Backorder ETA for WooCommerce
 * Description:          Shows when a backordered product is expected to ship, as worked out by the backorder connector: in the product's availability message, on the cart line and in the order emails.
 * Version:              1.1.0
 * Requires at least:    6.4
 * Requires PHP:         7.4
 * Requires Plugins:     woocommerce
 * Author:               The backorder connector contributors
 * License:              MIT
 * License URI:          https://opensource.org/licenses/MIT
 * Text Domain:          woocommerce-backorder-eta
 * Domain Path:          /languages
 * WC requires at least: 8.0
 * WC tested up to:      10.3
 *
 * @package WooCommerce_Backorder_ETA
 */

defined( 'ABSPATH' ) || exit;

require_once __DIR__ . '/includes/class-backorder-eta.php';
require_once __DIR__ . '/includes/class-backorder-eta-rest.php';

Backorder_ETA::register( __FILE__ );
