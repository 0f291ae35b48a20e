<?php
/**
 * Stand-ins for the few WordPress and WooCommerce functions and classes the plugin calls, so PHPUnit can load
 * it without a WordPress install. Hooks are recorded, translations come from the plugin's own .po file for
 * the current locale, and dates are formatted with month names of that locale, as WordPress does. REST
 * routes are recorded and rest_do_request() dispatches to them the way WordPress's REST server does.
 *
 * @package WooCommerce_Backorder_ETA
 */

define( 'ABSPATH', __DIR__ . '/' );
define( 'BACKORDER_ETA_PLUGIN_DIR', dirname( __DIR__, 3 ) . '/extensions/woocommerce-backorder-eta' );

/**
 * Everything the stand-ins remember; reset by reset_wordpress() before each test.
 */
final class WP_Test_State {
	/** @var array<string, list<array{callback: callable, priority: int, accepted_args: int}>> */
	public static $hooks = array();
	/** @var string */
	public static $locale = 'en_US';
	/** @var string */
	public static $site_locale = '';
	/** @var int */
	public static $now = 0;
	/** @var string */
	public static $timezone = 'UTC';
	/** @var array<string, array<string, string>> */
	public static $translations = array();
	/** @var array<int, WC_Product> */
	public static $products = array();
	/** @var list<array{string, bool, string}> */
	public static $textdomains = array();
	/** @var array<string, list<array{callback: callable, priority: int, accepted_args: int}>> Hooks the plugin file added when loaded. */
	public static $hooks_at_load = array();
	/** @var array<string, array{namespace: string, route: string, args: array}> Registered REST routes by full route. */
	public static $routes = array();
	/** @var int The current user, 0 when nobody is logged in. */
	public static $user_id = 0;
	/** @var list<string> The current user's capabilities. */
	public static $capabilities = array();
	/** @var list<int> Posts the current user may not edit even with edit_products. */
	public static $uneditable_posts = array();
	/** @var list<int> Ids of the products saved, in order. */
	public static $saves = array();
}

/**
 * Back to a fresh site: English, no hooks, the clock at 2 March 2026 09:30 UTC.
 */
function reset_wordpress() {
	WP_Test_State::$hooks       = array();
	WP_Test_State::$locale      = 'en_US';
	WP_Test_State::$site_locale = '';
	WP_Test_State::$now         = gmmktime( 9, 30, 0, 3, 2, 2026 );
	WP_Test_State::$timezone    = 'Europe/Berlin';
	WP_Test_State::$products    = array();
	WP_Test_State::$textdomains = array();
	WP_Test_State::$routes      = array();
	// A shop manager: edit_products, and edit_post on every product.
	WP_Test_State::$user_id          = 1;
	WP_Test_State::$capabilities     = array( 'read', 'edit_products' );
	WP_Test_State::$uneditable_posts = array();
	WP_Test_State::$saves            = array();
}

function add_filter( $hook, $callback, $priority = 10, $accepted_args = 1 ) {
	WP_Test_State::$hooks[ $hook ][] = array(
		'callback'      => $callback,
		'priority'      => $priority,
		'accepted_args' => $accepted_args,
	);
	return true;
}

function add_action( $hook, $callback, $priority = 10, $accepted_args = 1 ) {
	return add_filter( $hook, $callback, $priority, $accepted_args );
}

function do_action( $hook, ...$args ) {
	apply_filters( $hook, ...( $args ? $args : array( null ) ) );
}

function apply_filters( $hook, $value, ...$args ) {
	$callbacks = WP_Test_State::$hooks[ $hook ] ?? array();
	usort( $callbacks, fn( $a, $b ) => $a['priority'] <=> $b['priority'] );
	foreach ( $callbacks as $registered ) {
		$value = call_user_func_array( $registered['callback'], array_slice( array_merge( array( $value ), $args ), 0, $registered['accepted_args'] ) );
	}
	return $value;
}

function load_plugin_textdomain( $domain, $deprecated = false, $plugin_rel_path = '' ) {
	WP_Test_State::$textdomains[] = array( $domain, $deprecated, $plugin_rel_path );
	return true;
}

function plugin_basename( $file ) {
	return basename( dirname( $file ) ) . '/' . basename( $file );
}

function determine_locale() {
	return WP_Test_State::$locale;
}

function get_option( $name, $default_value = false ) {
	return 'WPLANG' === $name ? WP_Test_State::$site_locale : $default_value;
}

/**
 * The plugin's translations for a locale, read from its .po file (single-line entries, as the plugin's are).
 */
function backorder_eta_test_translations( $locale ) {
	if ( ! isset( WP_Test_State::$translations[ $locale ] ) ) {
		$entries = array();
		$po      = BACKORDER_ETA_PLUGIN_DIR . "/languages/woocommerce-backorder-eta-{$locale}.po";
		if ( is_file( $po ) ) {
			$context = '';
			$msgid   = null;
			foreach ( file( $po, FILE_IGNORE_NEW_LINES ) as $line ) {
				if ( preg_match( '/^msgctxt "(.*)"$/', $line, $m ) ) {
					$context = stripcslashes( $m[1] );
				} elseif ( preg_match( '/^msgid "(.*)"$/', $line, $m ) ) {
					$msgid = stripcslashes( $m[1] );
				} elseif ( null !== $msgid && preg_match( '/^msgstr "(.*)"$/', $line, $m ) ) {
					if ( '' !== $msgid && '' !== $m[1] ) {
						$entries[ ( '' === $context ? '' : $context . "\4" ) . $msgid ] = stripcslashes( $m[1] );
					}
					$context = '';
					$msgid   = null;
				}
			}
		}
		WP_Test_State::$translations[ $locale ] = $entries;
	}
	return WP_Test_State::$translations[ $locale ];
}

function backorder_eta_test_translate( $key, $text, $domain ) {
	if ( 'woocommerce-backorder-eta' !== $domain ) {
		throw new LogicException( "unexpected text domain {$domain}" );
	}
	$translations = backorder_eta_test_translations( WP_Test_State::$locale );
	return $translations[ $key ] ?? $text;
}

function __( $text, $domain = 'default' ) {
	return backorder_eta_test_translate( $text, $text, $domain );
}

function _x( $text, $context, $domain = 'default' ) {
	return backorder_eta_test_translate( $context . "\4" . $text, $text, $domain );
}

function esc_html( $text ) {
	return htmlspecialchars( (string) $text, ENT_QUOTES, 'UTF-8' );
}

function esc_html__( $text, $domain = 'default' ) {
	return esc_html( __( $text, $domain ) );
}

function wp_strip_all_tags( $text ) {
	return trim( strip_tags( preg_replace( '@<(script|style)[^>]*?>.*?</\\1>@si', '', (string) $text ) ) );
}

function wp_timezone() {
	return new DateTimeZone( WP_Test_State::$timezone );
}

/**
 * WordPress's wp_date(): PHP date formats, with month names from the current locale.
 */
function wp_date( $format, $timestamp = null, $timezone = null ) {
	$months = array(
		'en_US' => array( 'January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December' ),
		'de_DE' => array( 'Januar', 'Februar', 'März', 'April', 'Mai', 'Juni', 'Juli', 'August', 'September', 'Oktober', 'November', 'Dezember' ),
	);
	$names  = $months[ WP_Test_State::$locale ] ?? $months['en_US'];
	$moment = ( new DateTimeImmutable( '@' . ( null === $timestamp ? WP_Test_State::$now : $timestamp ) ) )
		->setTimezone( $timezone ? $timezone : wp_timezone() );
	$out    = '';
	for ( $i = 0, $n = strlen( $format ); $i < $n; $i++ ) {
		$char = $format[ $i ];
		if ( '\\' === $char && $i + 1 < $n ) {
			$out .= $format[ ++$i ];
		} elseif ( 'F' === $char ) {
			$out .= $names[ (int) $moment->format( 'n' ) - 1 ];
		} else {
			$out .= $moment->format( $char );
		}
	}
	return $out;
}

function sanitize_text_field( $str ) {
	if ( is_object( $str ) || is_array( $str ) ) {
		return '';
	}
	return trim( preg_replace( '/[\r\n\t ]+/', ' ', wp_strip_all_tags( (string) $str ) ) );
}

function is_user_logged_in() {
	return WP_Test_State::$user_id > 0;
}

/**
 * The current user's capabilities; edit_post is the meta capability WordPress maps to edit_products for a
 * product or variation.
 */
function current_user_can( $capability, ...$args ) {
	if ( ! is_user_logged_in() ) {
		return false;
	}
	if ( 'edit_post' === $capability ) {
		return in_array( 'edit_products', WP_Test_State::$capabilities, true )
			&& ! in_array( (int) ( $args[0] ?? 0 ), WP_Test_State::$uneditable_posts, true );
	}
	return in_array( $capability, WP_Test_State::$capabilities, true );
}

function is_wp_error( $thing ) {
	return $thing instanceof WP_Error;
}

class WP_Error {
	/** @var string */
	public $code;
	/** @var string */
	public $message;
	/** @var mixed */
	public $data;

	public function __construct( $code = '', $message = '', $data = '' ) {
		$this->code    = $code;
		$this->message = $message;
		$this->data    = $data;
	}

	public function get_error_code() {
		return $this->code;
	}

	public function get_error_message() {
		return $this->message;
	}

	public function get_error_data() {
		return $this->data;
	}
}

final class WP_REST_Server {
	const READABLE   = 'GET';
	const CREATABLE  = 'POST';
	const EDITABLE   = 'POST, PUT, PATCH';
	const DELETABLE  = 'DELETE';
	const ALLMETHODS = 'GET, POST, PUT, PATCH, DELETE';
}

class WP_REST_Request {
	/** @var string */
	private $method;
	/** @var string */
	private $route;
	/** @var array<string, string> */
	private $headers = array();
	/** @var string */
	private $body = '';

	public function __construct( $method = '', $route = '' ) {
		$this->method = $method;
		$this->route  = $route;
	}

	public function get_method() {
		return $this->method;
	}

	public function get_route() {
		return $this->route;
	}

	public function set_header( $name, $value ) {
		$this->headers[ strtolower( $name ) ] = $value;
	}

	public function get_header( $name ) {
		return $this->headers[ strtolower( $name ) ] ?? null;
	}

	public function set_body( $body ) {
		$this->body = $body;
	}

	public function get_body() {
		return $this->body;
	}

	/**
	 * The body decoded, as WordPress does it: only with a JSON content type, null when it does not parse.
	 */
	public function get_json_params() {
		if ( 0 !== strpos( (string) $this->get_header( 'content-type' ), 'application/json' ) ) {
			return null;
		}
		$params = json_decode( $this->body, true );
		return JSON_ERROR_NONE === json_last_error() ? $params : null;
	}

	public function get_param( $key ) {
		$params = $this->get_json_params();
		return is_array( $params ) && array_key_exists( $key, $params ) ? $params[ $key ] : null;
	}
}

class WP_REST_Response {
	/** @var mixed */
	public $data;
	/** @var int */
	public $status;

	public function __construct( $data = null, $status = 200 ) {
		$this->data   = $data;
		$this->status = $status;
	}

	public function get_data() {
		return $this->data;
	}

	public function get_status() {
		return $this->status;
	}
}

function rest_ensure_response( $response ) {
	if ( is_wp_error( $response ) || $response instanceof WP_REST_Response ) {
		return $response;
	}
	return new WP_REST_Response( $response );
}

function rest_authorization_required_code() {
	return is_user_logged_in() ? 403 : 401;
}

function register_rest_route( $route_namespace, $route, $args = array(), $override = false ) {
	$full = '/' . trim( $route_namespace, '/' ) . '/' . trim( $route, '/' );
	WP_Test_State::$routes[ $full ] = array(
		'namespace' => $route_namespace,
		'route'     => $route,
		'args'      => $args,
	);
	return true;
}

/**
 * A WP_Error as the REST server answers it: {code, message, data} with the status its data names.
 */
function rest_convert_error_to_response( $error ) {
	$data   = $error->get_error_data();
	$status = is_array( $data ) && isset( $data['status'] ) ? $data['status'] : 500;
	return new WP_REST_Response(
		array(
			'code'    => $error->get_error_code(),
			'message' => $error->get_error_message(),
			'data'    => $data,
		),
		$status
	);
}

/**
 * WordPress's REST dispatch for the routes registered here: the route and method must match, the
 * permission_callback must return true, and errors become responses.
 */
function rest_do_request( WP_REST_Request $request ) {
	$route = WP_Test_State::$routes[ $request->get_route() ] ?? null;
	$args  = $route ? $route['args'] : array();
	if ( ! $route || ! in_array( $request->get_method(), array_map( 'trim', explode( ',', $args['methods'] ) ), true ) ) {
		return rest_convert_error_to_response( new WP_Error( 'rest_no_route', 'No route was found matching the URL and request method.', array( 'status' => 404 ) ) );
	}
	$allowed = call_user_func( $args['permission_callback'], $request );
	if ( is_wp_error( $allowed ) ) {
		return rest_convert_error_to_response( $allowed );
	}
	if ( true !== $allowed ) {
		return rest_convert_error_to_response( new WP_Error( 'rest_forbidden', 'Sorry, you are not allowed to do that.', array( 'status' => rest_authorization_required_code() ) ) );
	}
	$response = rest_ensure_response( call_user_func( $args['callback'], $request ) );
	return is_wp_error( $response ) ? rest_convert_error_to_response( $response ) : $response;
}

function wc_get_product( $id ) {
	return WP_Test_State::$products[ $id ] ?? false;
}

/**
 * WooCommerce's meta store on its data objects (products, order lines).
 */
abstract class WC_Data {
	/** @var array<string, list<mixed>> */
	public $meta = array();

	public function get_meta( $key, $single = true ) {
		$values = $this->meta[ $key ] ?? array();
		if ( $single ) {
			return $values ? $values[0] : '';
		}
		return $values;
	}

	public function add_meta_data( $key, $value, $unique = false ) {
		if ( $unique ) {
			$this->meta[ $key ] = array();
		}
		$this->meta[ $key ][] = $value;
	}

	/**
	 * Sets a key to one value, as WooCommerce does (an empty value is stored, not deleted).
	 */
	public function update_meta_data( $key, $value ) {
		$this->meta[ $key ] = array( $value );
	}
}

/**
 * A product or variation with WooCommerce's stock rules (manage_stock may be 'parent' on a variation).
 */
class WC_Product extends WC_Data {
	public $id;
	public $type;
	public $parent_id      = 0;
	public $manage_stock   = true;
	public $stock_quantity = 0;
	public $backorders     = 'no';

	public function __construct( $id, $type = 'simple', array $props = array(), array $meta = array() ) {
		$this->id   = $id;
		$this->type = $type;
		foreach ( $props as $name => $value ) {
			$this->$name = $value;
		}
		foreach ( $meta as $key => $value ) {
			$this->add_meta_data( $key, $value, true );
		}
		WP_Test_State::$products[ $id ] = $this;
	}

	public function get_id() {
		return $this->id;
	}

	public function get_parent_id() {
		return $this->parent_id;
	}

	public function is_type( $type ) {
		return $this->type === $type;
	}

	public function get_manage_stock() {
		return $this->manage_stock;
	}

	private function stock_holder() {
		return 'parent' === $this->manage_stock ? wc_get_product( $this->parent_id ) : $this;
	}

	public function managing_stock() {
		return (bool) $this->stock_holder()->manage_stock;
	}

	public function backorders_allowed() {
		return in_array( $this->stock_holder()->backorders, array( 'yes', 'notify' ), true );
	}

	public function get_stock_status() {
		$holder = $this->stock_holder();
		if ( ! $holder->manage_stock || $holder->stock_quantity > 0 ) {
			return 'instock';
		}
		return $this->backorders_allowed() ? 'onbackorder' : 'outofstock';
	}

	public function is_on_backorder( $qty_in_cart = 0 ) {
		if ( 'onbackorder' === $this->get_stock_status() ) {
			return true;
		}
		return $this->managing_stock() && $this->backorders_allowed() && ( $this->stock_holder()->stock_quantity - $qty_in_cart ) < 0;
	}

	/**
	 * Records the save; the meta is already on the object.
	 */
	public function save() {
		WP_Test_State::$saves[] = $this->id;
		return $this->id;
	}
}

/**
 * A variation of a variable product, the class wc_get_product() gives for one.
 */
class WC_Product_Variation extends WC_Product {
	public function __construct( $id, $parent_id, array $props = array(), array $meta = array() ) {
		parent::__construct( $id, 'variation', array( 'parent_id' => $parent_id ) + $props, $meta );
	}
}

class WC_Order_Item extends WC_Data {
}

class WC_Order_Item_Product extends WC_Order_Item {
}

class WC_Order_Item_Shipping extends WC_Order_Item {
}

class WC_Order {
}

reset_wordpress();
require BACKORDER_ETA_PLUGIN_DIR . '/woocommerce-backorder-eta.php';
WP_Test_State::$hooks_at_load = WP_Test_State::$hooks;
